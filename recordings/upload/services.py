"""Writes of uploads in progress: create, append (PATCH), complete, terminate.

Each function runs in the camera's household scope, which its route opened from
the token (``DeviceAPIView``): one transaction. Files follow the rows: a partial
file is removed once the removal of its row has committed (``on_commit``), and a
completed clip is given its final name inside the transaction that creates its
``Recording``. A service that raises keeps nothing: its rows roll back and the
files it made are deleted before the error leaves it. A checksum mismatch is
not raised but returned as the state's ``refusal``: the upload's removal must
commit before the camera is told. Should the commit itself fail, the files left
without rows are the sweep's to remove (``recordings.sweep``). A full disk
(``ENOSPC``) on any write is ``StorageFull``, after the same undoing.

Limits: creating an upload locks the household's row, then checks the clip
against the whole quota, the camera's open uploads and the household's bytes
in flight (the declared lengths of its live uploads), so two creations at the
same instant take turns and cannot both pass a limit only one fits. Completing
one makes room within the quota under the same lock (``retention.make_room``).
"""

import errno
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tenancy import require_account_scope
from devices.credentials import DevicePrincipal
from devices.models import Camera
from recordings import files
from recordings.models import Recording, Upload
from recordings.retention import format_bytes, lock_household, make_room
from recordings.services import recording_create
from recordings.storage import DecryptionError, ObjectExists, resumable
from recordings.storage.chunked import ciphertext_size_for
from recordings.upload.constants import CHUNK_MULTIPLE
from recordings.upload.errors import (
    CameraGone,
    ChecksumMismatch,
    InFlightLimit,
    InvalidPart,
    LargerThanQuota,
    PublishFailed,
    StorageFull,
    TooManyOpenUploads,
    UploadConflict,
    UploadError,
    UploadNotFound,
)
from recordings.upload.partials import remove_partial, running_hashes
from recordings.upload.protocol import UploadSpec

__all__ = ["CHUNK_MULTIPLE", "UploadState", "upload_append", "upload_create", "upload_get", "upload_terminate"]

Read = Callable[[int], bytes]
# A full disk, or the filesystem's quota for the server's user: the camera is told 507.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


@dataclass(frozen=True, slots=True)
class UploadState:
    """What the camera is told about an upload (or, once complete, its recording)."""

    upload_id: uuid.UUID | None
    offset: int
    length: int
    expires_at: datetime | None
    recording_id: uuid.UUID | None = None  # set once the clip is stored and its Recording exists
    created: bool = False
    # The upload was removed (committed with the request) and the camera is told why.
    refusal: UploadError | None = None

    @property
    def complete(self) -> bool:
        return self.recording_id is not None


def _state(upload: Upload, *, created: bool = False) -> UploadState:
    return UploadState(upload.pk, upload.offset, upload.length, upload.expires_at, created=created)


Undo = list[Callable[[], object]]


@contextmanager
def _in_one_block(principal: DevicePrincipal) -> Iterator[Undo]:
    """The scope the route opened, and a savepoint: if the work raises, its rows roll
    back and the files it listed in ``undo`` are deleted before the error goes on."""
    require_account_scope(principal.account_id)
    undo: Undo = []
    try:
        with transaction.atomic():
            yield undo
    except BaseException as error:
        for action in reversed(undo):
            action()
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            # Rows rolled back and new files gone; an append cuts its partial file back itself.
            raise StorageFull(
                _(
                    "The server's storage is full: nothing of this request was kept. Try again later; "
                    "an upload in progress resumes from its Upload-Offset (HEAD)."
                )
            ) from error
        raise


def _after_commit(action: Callable[[], object]) -> None:
    # robust: a file that cannot be removed now is the sweep's; the upload has its answer.
    transaction.on_commit(action, robust=True)


def _live(principal: DevicePrincipal) -> QuerySet[Upload]:
    # Another camera's upload, even in the same household, is not found (404).
    return Upload.objects.filter(camera_id=principal.camera_id, expires_at__gt=timezone.now())


def _by_key(principal: DevicePrincipal, spec: UploadSpec) -> UploadState | None:
    """What a retried creation with the same Idempotency-Key gets: the recording, or the upload to resume."""
    key = spec.idempotency_key
    if not key:
        return None
    recording = Recording.objects.filter(camera_id=principal.camera_id, idempotency_key=key).first()
    if recording is not None:
        # upload_sha256, not sha256: processing may have remuxed the clip. '' (a row from
        # before it was kept) cannot be compared: such a retry gets the recording, as it did.
        if recording.upload_sha256 and not hmac.compare_digest(recording.upload_sha256, spec.sha256):
            raise UploadConflict(_("This Idempotency-Key is already used by a recording of another clip (sha256)."))
        length = spec.length if recording.upload_sha256 else recording.size_bytes
        return UploadState(None, length, length, None, recording_id=recording.pk)
    upload = Upload.objects.filter(camera_id=principal.camera_id, idempotency_key=key).first()
    if upload is None:
        return None
    if upload.expires_at <= timezone.now():
        # Expired: its key is free again, and its file goes with it. Deleted by a query, not
        # upload.delete(): expire_uploads may have removed the row since it was read (0 rows then).
        account_id, upload_id = upload.account_id, upload.pk
        Upload.objects.filter(pk=upload_id).delete()
        _after_commit(lambda: remove_partial(account_id, upload_id))
        return None
    if upload.length != spec.length or upload.sha256 != spec.sha256:
        raise UploadConflict(_("This Idempotency-Key is already used by an upload of another clip (length or sha256)."))
    return _state(upload)


def upload_create(*, principal: DevicePrincipal, spec: UploadSpec, read: Read | None, count: int) -> UploadState:
    """Start an upload (tus creation); with a body, take its first bytes too (creation-with-upload)."""

    with _in_one_block(principal) as undo:
        existing = _by_key(principal, spec)
        if existing is not None:
            return existing
        camera = Camera.objects.filter(pk=principal.camera_id).first()
        if camera is None:
            # Deleted since its token was checked (the token went with it).
            raise CameraGone(_("This camera no longer exists: its token is no longer valid."))
        _lock_and_check_limits(camera, spec)
        # A retry with the same key may have committed its upload while this one waited for the lock.
        existing = _by_key(principal, spec)
        if existing is not None:
            return existing
        upload = Upload(
            account_id=camera.account_id,
            camera=camera,
            idempotency_key=spec.idempotency_key,
            length=spec.length,
            sha256=spec.sha256,
            started_at=spec.started_at,
            ended_at=spec.ended_at,
            expires_at=timezone.now() + timedelta(hours=settings.RECORDINGS_UPLOAD_EXPIRY_HOURS),
        )
        try:
            with transaction.atomic():
                upload.save(force_insert=True)
        except IntegrityError:
            # A concurrent retry with the same key created it first: answer as for a retry.
            existing = _by_key(principal, spec)
            if existing is not None:
                return existing
            raise
        undo.append(lambda: remove_partial(upload.account_id, upload.pk))
        with files.clip_storage.partial_create(upload.account_id, upload.pk) as partial:
            resumable.start(
                partial,
                data_key=files.data_key(upload.account_id),
                account_id=upload.account_id,
                object_id=upload.recording_id,
                kind=files.CLIP,
                length=upload.length,
            )
        if count:
            assert read is not None
            state = _receive(upload, offset=0, read=read, count=count, undo=undo)
            return UploadState(
                upload.pk,
                state.offset,
                state.length,
                state.expires_at,
                recording_id=state.recording_id,
                created=True,
                refusal=state.refusal,
            )
        return _state(upload, created=True)


def _lock_and_check_limits(camera: Camera, spec: UploadSpec) -> None:
    """Lock the household's row (held until the request commits), then refuse a clip its
    quota or limits cannot take. In-flight bytes are the full declared lengths of the live
    uploads: the bytes received so far sit in partial files, outside the quota, until the
    clip is stored (expired uploads are not counted: they are removed hourly)."""
    quota = lock_household(camera.account_id)
    # As stored (encrypted): a clip whose ciphertext is over the quota could never be kept.
    if ciphertext_size_for(spec.length) > quota:
        raise LargerThanQuota(
            _(
                "The clip is %(length)s bytes (%(size)s): larger than the household's whole storage quota of "
                "%(quota)s bytes (%(quota_size)s). Record shorter clips, or ask an owner of the household to raise "
                "the quota."
            )
            % {
                "length": spec.length,
                "size": format_bytes(spec.length),
                "quota": quota,
                "quota_size": format_bytes(quota),
            }
        )
    live = Upload.objects.filter(expires_at__gt=timezone.now()).aggregate(
        in_flight=Sum("length"), here=Count("pk", filter=Q(camera_id=camera.pk))
    )
    # int(): PostgreSQL's SUM of a bigint is a numeric (a Decimal here).
    open_here, in_flight = live["here"], int(live["in_flight"] or 0)
    most_open = settings.RECORDINGS_MAX_OPEN_UPLOADS_PER_CAMERA
    if open_here >= most_open:
        raise TooManyOpenUploads(
            _(
                "This camera has %(open)s unfinished uploads, the most it may have open at once (%(most)s): finish "
                "them, or cancel one (DELETE), before starting another. Abandoned uploads expire after %(hours)s hours."
            )
            % {"open": open_here, "most": most_open, "hours": settings.RECORDINGS_UPLOAD_EXPIRY_HOURS}
        )
    most_in_flight = settings.RECORDINGS_MAX_INFLIGHT_BYTES
    if in_flight + spec.length > most_in_flight:
        raise InFlightLimit(
            _(
                "The household's unfinished uploads already declare %(in_flight)s bytes (%(in_flight_size)s); this "
                "clip's %(length)s more would pass the %(most)s bytes (%(most_size)s) this server holds in flight for "
                "a household. Try again once the uploads in progress finish (or cancel those that never will)."
            )
            % {
                "in_flight": in_flight,
                "in_flight_size": format_bytes(in_flight),
                "length": spec.length,
                "most": most_in_flight,
                "most_size": format_bytes(most_in_flight),
            }
        )


def upload_append(
    *, principal: DevicePrincipal, upload_id: uuid.UUID, offset: int, read: Read, count: int
) -> UploadState:
    """Append a PATCH's body at ``offset`` (the stored offset, else 409); complete the upload at its length."""

    with _in_one_block(principal) as undo:
        # The row lock makes two PATCHes at the same offset take turns: the second sees the new offset (409).
        upload = _live(principal).select_for_update().filter(pk=upload_id).first()
        if upload is None:
            raise UploadNotFound(_("No such upload (unknown, expired, completed or cancelled)."))
        return _receive(upload, offset=offset, read=read, count=count, undo=undo)


def _check_part(upload: Upload, *, offset: int, count: int) -> None:
    if offset != upload.offset:
        raise UploadConflict(
            _("Upload-Offset is %(offset)s but the server has %(have)s bytes: resume from there.")
            % {"offset": offset, "have": upload.offset}
        )
    end = offset + count
    if end > upload.length:
        raise InvalidPart(
            _("%(count)s bytes at offset %(offset)s go past Upload-Length (%(length)s).")
            % {"count": count, "offset": offset, "length": upload.length}
        )
    if end < upload.length and count % CHUNK_MULTIPLE:
        raise InvalidPart(
            _(
                "Every part but the last must be a multiple of %(multiple)s bytes (the encryption chunk, "
                "see Upload-Chunk-Multiple); this one is %(count)s bytes."
            )
            % {"multiple": CHUNK_MULTIPLE, "count": count},
        )


def _receive(upload: Upload, *, offset: int, read: Read, count: int, undo: Undo) -> UploadState:
    """Seal the body into the partial file; at the declared length, complete. The row is locked or new."""
    _check_part(upload, offset=offset, count=count)
    if count == 0:
        return _state(upload)
    account_id, upload_id = upload.account_id, upload.pk
    data_key = files.data_key(account_id)
    partial = files.clip_storage.partial_open(account_id, upload_id)
    if partial is None:
        return _give_up(upload, UploadNotFound(_("This upload's bytes are gone: start a new upload.")))
    with partial:
        running = running_hashes.take(upload_id, offset, resumable.tail_tag(partial, offset))
        if running is None and offset == 0:
            running = hashlib.sha256()
        try:
            new_offset = resumable.append(
                partial,
                data_key=data_key,
                account_id=account_id,
                object_id=upload.recording_id,
                kind=files.CLIP,
                offset=offset,
                count=count,
                read=read,
                on_plaintext=running.update if running is not None else None,
            )
        except resumable.AppendError as error:
            raise InvalidPart(str(error)) from None
        tag = resumable.tail_tag(partial, new_offset)
        if new_offset == upload.length:
            resumable.sync(partial)
            digest = running.hexdigest() if running is not None else _decrypted_sha256(partial, upload, data_key)
    upload.offset = new_offset
    upload.save(update_fields=["offset"])
    if new_offset < upload.length:
        if running is not None:
            # Only once committed: a rolled-back append must not leave a hash for bytes the row never had.
            _after_commit(lambda: running_hashes.put(upload_id, new_offset, tag, running))
        return _state(upload)
    return _complete(upload, digest, undo)


def _decrypted_sha256(partial: IO[bytes], upload: Upload, data_key: bytes) -> str | None:
    try:
        return resumable.decrypted_sha256(
            partial, data_key=data_key, account_id=upload.account_id, object_id=upload.recording_id, kind=files.CLIP
        )
    except DecryptionError:
        return None


def _discard(upload: Upload) -> UploadState:
    """Remove the upload: its row now, its partial file once that commits."""
    account_id, upload_id = upload.account_id, upload.pk
    state = _state(upload)
    upload.delete()
    _after_commit(lambda: remove_partial(account_id, upload_id))
    return state


def _give_up(upload: Upload, error: UploadError) -> UploadState:
    """Remove the upload; the camera is told ``error`` once that has committed."""
    state = _discard(upload)
    return UploadState(state.upload_id, state.offset, state.length, state.expires_at, refusal=error)


def _complete(upload: Upload, digest: str | None, undo: Undo) -> UploadState:
    if digest is None or not hmac.compare_digest(digest, upload.sha256):
        return _give_up(
            upload,
            ChecksumMismatch(
                _("The uploaded bytes do not match their declared sha256: nothing was stored. Upload again.")
            ),
        )
    account_id, recording_id, upload_id = upload.account_id, upload.recording_id, upload.pk
    _publish_once(account_id, upload_id, recording_id)
    undo.append(lambda: files.delete(account_id=account_id, recording_id=recording_id))
    # The partial file goes only once the Recording is committed: if the transaction
    # fails, the row's offset rolls back and the partial file still matches it.
    _after_commit(lambda: remove_partial(account_id, upload_id))
    running_hashes.forget(upload.pk)
    recording = recording_create(
        camera=upload.camera,
        recording_id=recording_id,
        started_at=upload.started_at,
        ended_at=upload.ended_at,
        size_bytes=upload.length,
        sha256=upload.sha256,
        idempotency_key=upload.idempotency_key,
    )
    # The household's storage stays within its quota: its oldest other clips make room now.
    make_room(account_id, keep=recording.pk)
    state = UploadState(upload.pk, upload.length, upload.length, upload.expires_at, recording_id=recording.pk)
    upload.delete()
    return state


def _publish_once(account_id: uuid.UUID, upload_id: uuid.UUID, recording_id: uuid.UUID) -> None:
    """Publish the partial file, replacing what a crashed completion of this upload left.

    A completion that died after publishing but before its commit leaves the
    final name with no ``Recording``. The upload's row is locked (or new), so no
    other completion of it is running: a final name without a ``Recording`` is
    that leftover, and it goes.
    """
    store = files.clip_storage
    try:
        store.publish(account_id, upload_id, object_id=recording_id, kind=files.CLIP)
        return
    except ObjectExists:
        if Recording.objects.filter(pk=recording_id).exists():
            raise UploadConflict(
                _("This upload is already complete: create it again with its Idempotency-Key.")
            ) from None
    store.delete(account_id=account_id, object_id=recording_id, kind=files.CLIP)
    try:
        store.publish(account_id, upload_id, object_id=recording_id, kind=files.CLIP)
    except ObjectExists:
        raise PublishFailed(
            _("The clip could not be given its final name (left by an earlier attempt): try again later.")
        ) from None


def upload_get(*, principal: DevicePrincipal, upload_id: uuid.UUID) -> UploadState:
    """The upload's offset (tus HEAD), for the camera that created it only."""
    require_account_scope(principal.account_id)
    upload = _live(principal).filter(pk=upload_id).first()
    if upload is None:
        raise UploadNotFound(_("No such upload (unknown, expired, completed or cancelled)."))
    return _state(upload)


def upload_terminate(*, principal: DevicePrincipal, upload_id: uuid.UUID) -> None:
    """Cancel an upload (tus termination): its row, then its partial file."""

    with _in_one_block(principal):
        upload = _live(principal).select_for_update().filter(pk=upload_id).first()
        if upload is None:
            raise UploadNotFound(_("No such upload (unknown, expired, completed or cancelled)."))
        _discard(upload)
