"""Writes of recordings: creating one from a stored clip, deleting one with its files.

File and row go together: a row is created only once its clip is stored, and
a row's files are deleted once the deletion of the row has committed (a
rollback keeps both). The sweep (``recordings.sweep``) repairs what a crash
between the two leaves behind.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.services import actor_account_id
from devices.models import Camera
from recordings import files, sharing
from recordings.models import SHARE_LINK_LIFETIMES, SHARE_LINK_MAX_SECONDS, Recording, RecordingStatus, ShareLink

logger = logging.getLogger("nvr.recordings.services")


def recording_create(
    *,
    camera: Camera,
    recording_id: uuid.UUID,
    started_at: datetime,
    ended_at: datetime,
    size_bytes: int,
    sha256: str,
    idempotency_key: str = "",
) -> Recording:
    """The row of a clip already stored under ``recording_id``; processing is enqueued on commit."""
    recording = Recording.objects.create(
        id=recording_id,
        account_id=camera.account_id,
        camera=camera,
        started_at=started_at,
        ended_at=ended_at,
        size_bytes=size_bytes,
        sha256=sha256,
        upload_sha256=sha256,  # processing may remux the clip and change sha256, never this
        stored_bytes=files.stored_bytes(account_id=camera.account_id, recording_id=recording_id),
        idempotency_key=idempotency_key,
        status=RecordingStatus.UPLOADED,
    )
    from recordings.tasks import process_recording  # the task module imports this one

    account_id, pk = str(recording.account_id), str(recording.pk)
    transaction.on_commit(lambda: process_recording.delay(account_id, pk))
    return recording


def recording_delete(*, actor: Membership, recording: Recording) -> None:
    """Owners and members delete clips; viewers cannot."""
    actor_account_id(actor)
    if not actor.can_delete_recordings:
        raise PermissionDenied(_("Only owners and members delete recordings."))
    recordings_purge([recording])


def recordings_purge(recordings: Iterable[Recording]) -> int:
    """Delete rows (with their motion events) and, once that commits, their files. Returns how many."""
    doomed = [(recording.account_id, recording.pk) for recording in recordings]
    if not doomed:
        return 0
    Recording.objects.filter(pk__in=[pk for _account, pk in doomed]).delete()
    _remove_files_on_commit(doomed)
    return len(doomed)


def camera_recordings_purge_on_commit(camera: Camera) -> None:
    """Before a camera is deleted: its clips' files go once the deletion commits (the rows cascade)."""
    doomed = list(Recording.objects.filter(camera=camera).values_list("account_id", "pk"))
    _remove_files_on_commit(doomed)


def _remove_files_on_commit(doomed: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    """Once the rows' deletion commits, delete their files, each on its own.

    The rows are gone for good by then: a file that cannot be deleted (storage
    down, permissions) is logged and left to the sweep, and neither stops the
    other files nor raises out of the commit (``robust``: the caller's loop,
    e.g. retention's over every household, goes on).
    """

    def remove_files() -> None:
        for account_id, pk in doomed:
            try:
                files.delete(account_id=account_id, recording_id=pk)
            except Exception:
                logger.exception("recording %s: its files could not be deleted; the sweep will retry", pk)

    transaction.on_commit(remove_files, robust=True)


def share_link_create(*, actor: Membership, recording: Recording, lifetime: str) -> tuple[ShareLink, str]:
    """A link to ``recording`` for ``lifetime`` (a key of ``SHARE_LINK_LIFETIMES``), and its
    secret, which is returned this once and never stored. Owners and members only; the
    caller found ``recording`` with ``recording_get`` (a clip kept from the actor is a 404)."""
    actor_account_id(actor)
    if not actor.can_delete_recordings:
        raise PermissionDenied(_("Only owners and members share clips."))
    if lifetime not in SHARE_LINK_LIFETIMES:
        raise ValidationError({"expires": _("Choose 1 hour, 1 day or 7 days.")})
    if not recording.is_ready:
        raise ValidationError(_("Only a clip that has been processed can be shared."))
    seconds = min(SHARE_LINK_LIFETIMES[lifetime][1], SHARE_LINK_MAX_SECONDS)
    secret, digest = sharing.new_secret()
    now = timezone.now()
    link = ShareLink.objects.create(
        account_id=recording.account_id,
        recording=recording,
        created_by=actor,
        created_by_label=actor.user.display_name,
        token_hash=digest,
        created_at=now,
        expires_at=now + timedelta(seconds=seconds),
    )
    return link, secret


def share_link_revoke(*, actor: Membership, link: ShareLink) -> None:
    """Ends the link at once (owners and members)."""
    actor_account_id(actor)
    if not actor.can_delete_recordings:
        raise PermissionDenied(_("Only owners and members revoke shared links."))
    if link.revoked_at is None:
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
