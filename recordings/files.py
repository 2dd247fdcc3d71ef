"""A recording's encrypted files (clip and thumbnail), on the configured storage.

The only place that pairs a household's id with its data key: both come from
the same scoped ``StorageKey`` row, and the object id is always the recording's.
"""

import uuid
from collections.abc import Generator

from django.db import IntegrityError, transaction

from recordings.models import Recording, StorageKey
from recordings.storage import (
    ClipStorage,
    EncryptedFileInfo,
    Readable,
    generate_data_key,
    unwrap_data_key,
    wrap_data_key,
)

CLIP = "clips"
THUMBNAIL = "thumbnails"

clip_storage = ClipStorage()


def data_key(account_id: uuid.UUID) -> bytes:
    """The household's data key, made on first use. Call inside the household's scope."""
    row = StorageKey.objects.filter(account_id=account_id).first()
    if row is None:
        try:
            with transaction.atomic():
                row = StorageKey.objects.create(
                    account_id=account_id, wrapped_key=wrap_data_key(account_id, generate_data_key())
                )
        except IntegrityError:
            # Another request made it first: use theirs (files may already be sealed with it).
            row = StorageKey.objects.get(account_id=account_id)
    return unwrap_data_key(account_id, bytes(row.wrapped_key))


def store(
    *, account_id: uuid.UUID, recording_id: uuid.UUID, kind: str, source: Readable, expected_sha256: str | None = None
) -> EncryptedFileInfo:
    """Encrypt ``source`` into the recording's clip or thumbnail; all or nothing."""
    return clip_storage.write_encrypted(
        account_id=account_id,
        object_id=recording_id,
        kind=kind,
        data_key=data_key(account_id),
        source=source,
        expected_sha256=expected_sha256,
    )


def open_range(recording: Recording, *, kind: str, start: int, end_inclusive: int) -> Generator[bytes, None, None]:
    """Decrypted bytes of the recording's clip or thumbnail (see ``ClipStorage.open_range``)."""
    return clip_storage.open_range(
        account_id=recording.account_id,
        object_id=recording.pk,
        kind=kind,
        data_key=data_key(recording.account_id),
        start=start,
        end_inclusive=end_inclusive,
    )


def stored_bytes(*, account_id: uuid.UUID, recording_id: uuid.UUID) -> int:
    """What the recording's files take in storage (ciphertext), for the quota."""
    total = 0
    for kind in (CLIP, THUMBNAIL):
        if clip_storage.exists(account_id=account_id, object_id=recording_id, kind=kind):
            total += clip_storage.stored_size(account_id=account_id, object_id=recording_id, kind=kind)
    return total


def delete(*, account_id: uuid.UUID, recording_id: uuid.UUID) -> None:
    """Remove the recording's clip and thumbnail; nothing happens for what is already gone."""
    for kind in (CLIP, THUMBNAIL):
        clip_storage.delete(account_id=account_id, object_id=recording_id, kind=kind)
