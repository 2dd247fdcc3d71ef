"""Retention and quota: how much a household stores, and pruning what it may no longer keep.

``enforce_retention`` (Celery beat, and ``manage.py prune_recordings``) lists the
households' ids with the logged escape hatch and nothing else, then works inside
each household's own scope: first the clips older than their camera's
``retention_days``, then, while the household stores more than its quota, its
oldest clips. Rows go in batches, each batch a transaction of its own, through
``recordings_purge`` (the rows now, their files once the batch commits).

Uploads make room too: ``make_room`` runs when an upload completes, in its
transaction, so a household's storage stays within its quota between runs.
Neither counts uploads in flight: their bytes may never arrive (a camera that
dies mid-upload), and deleting recorded video for them would lose it for
nothing. In-flight bytes are bounded when an upload is created instead
(``recordings.upload.services``: ``RECORDINGS_MAX_INFLIGHT_BYTES``).

One household's failure (its storage, its rows) is logged and reported in
``RetentionReport.failed``; the others are still pruned, and the next run tries
it again. A file that cannot be deleted is logged and left to the sweep.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Account, Membership
from accounts.services import actor_account_id
from accounts.tenancy import account_scope, require_account_scope, unscoped
from devices.selectors import filter_visible_cameras
from recordings.models import CameraRecordingSettings, Recording
from recordings.services import recordings_purge

__all__ = [
    "AccountPrune",
    "RetentionReport",
    "StorageUsage",
    "enforce_retention",
    "format_bytes",
    "lock_household",
    "make_room",
    "max_quota_gb",
    "prune_account",
    "storage_quota_set",
    "storage_usage",
    "storage_usage_seen_by",
]

logger = logging.getLogger("nvr.recordings.retention")

GB = 1024**3
MIN_QUOTA_GB = Decimal("0.1")


def max_quota_gb() -> Decimal:
    """The largest quota an owner may choose (``NVR_MAX_QUOTA_GB``, the operator's ceiling)."""
    return Decimal(settings.NVR_MAX_QUOTA_GB)


def format_bytes(count: int) -> str:
    """``1.2 GB``, ``350 MB``, ``0 B``: binary units, one decimal below 10, in the active
    language (French writes "1,2 Go")."""
    value = float(count)
    units = (
        pgettext("bytes", "B"),
        pgettext("bytes", "KB"),
        pgettext("bytes", "MB"),
        pgettext("bytes", "GB"),
        pgettext("bytes", "TB"),
    )
    for index, unit in enumerate(units):
        if abs(value) < 1024 or index == len(units) - 1:
            if index == 0:
                return f"{int(value)} {unit}"
            digits = 1 if abs(value) < 10 else 0
            return f"{formats.number_format(round(value, digits), digits)} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class StorageUsage:
    """What a household stores (ciphertext of clips and thumbnails) against its quota."""

    used_bytes: int
    quota_bytes: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used_bytes / self.quota_bytes)) if self.quota_bytes > 0 else 100

    @property
    def over_quota(self) -> bool:
        return self.used_bytes > self.quota_bytes

    @property
    def label(self) -> str:
        return _("%(used)s of %(quota)s") % {
            "used": format_bytes(self.used_bytes),
            "quota": format_bytes(self.quota_bytes),
        }


def storage_usage(account_id: uuid.UUID) -> StorageUsage:
    """The household's storage used and quota. Call inside its scope."""
    used = Recording.objects.filter(account_id=account_id).aggregate(total=Sum("stored_bytes"))["total"] or 0
    quota = Account.objects.filter(pk=account_id).values_list("storage_quota_bytes", flat=True).first()
    return StorageUsage(used_bytes=int(used), quota_bytes=int(quota or 0))


def storage_usage_seen_by(viewer: Membership) -> StorageUsage:
    """What the storage page and the timeline show ``viewer``: the household's usage, or for
    someone limited to some cameras only their cameras' (the others do not exist for them)."""
    if not viewer.sees_some_cameras_only:
        return storage_usage(viewer.account_id)
    clips = filter_visible_cameras(Recording.objects.filter(account_id=viewer.account_id), viewer=viewer)
    used = clips.aggregate(total=Sum("stored_bytes"))["total"] or 0
    quota = Account.objects.filter(pk=viewer.account_id).values_list("storage_quota_bytes", flat=True).first()
    return StorageUsage(used_bytes=int(used), quota_bytes=int(quota or 0))


def quota_range_message(ceiling: Decimal) -> str:
    return _("The quota must be between %(low)s and %(high)s GB (the most this server allows a household).") % {
        "low": formats.localize(MIN_QUOTA_GB),
        "high": formats.localize(ceiling),
    }


def storage_quota_set(*, actor: Membership, quota_gb: Decimal) -> Account:
    """Owners set their household's storage quota (GB); the next retention run enforces it."""
    actor_account_id(actor)
    if not actor.is_owner:
        raise PermissionDenied(_("Only an owner can change the household's storage quota."))
    ceiling = max_quota_gb()
    if not MIN_QUOTA_GB <= quota_gb <= ceiling:
        raise ValidationError({"storage_quota_gb": quota_range_message(ceiling)})
    account = actor.account
    account.storage_quota_bytes = int(quota_gb * GB)
    account.save(update_fields=["storage_quota_bytes"])
    return account


@dataclass(slots=True)
class AccountPrune:
    """What pruning one household deleted."""

    account_id: str
    expired: int = 0
    over_quota: int = 0
    bytes_freed: int = 0


@dataclass(slots=True)
class RetentionReport:
    households: int = 0
    expired: int = 0
    over_quota: int = 0
    bytes_freed: int = 0
    pruned: list[AccountPrune] = field(default_factory=list)  # households where something was deleted
    failed: list[str] = field(default_factory=list)  # ids of households whose pruning stopped on an error (logged)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def enforce_retention(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    progress: Callable[[int, int, AccountPrune], None] | None = None,
) -> RetentionReport:
    """Prune every household; ``progress(done, total, household)`` after each one."""
    now = now or timezone.now()
    with unscoped("retention: list the households whose recordings to prune"):
        account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    report = RetentionReport(households=len(account_ids))
    for done, account_id in enumerate(account_ids, start=1):
        pruned = AccountPrune(account_id=str(account_id))
        try:
            _prune_into(pruned, account_id, now=now, batch_size=batch_size)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            # Its committed batches are counted; the next run tries the rest again.
            logger.exception("retention: household %s failed; continuing with the others", account_id)
            report.failed.append(str(account_id))
        report.expired += pruned.expired
        report.over_quota += pruned.over_quota
        report.bytes_freed += pruned.bytes_freed
        if pruned.expired or pruned.over_quota:
            report.pruned.append(pruned)
        if progress is not None:
            progress(done, len(account_ids), pruned)
    return report


def prune_account(account_id: uuid.UUID, *, now: datetime, batch_size: int | None = None) -> AccountPrune:
    """Delete the household's expired clips, then its oldest while it is over quota."""
    result = AccountPrune(account_id=str(account_id))
    _prune_into(result, account_id, now=now, batch_size=batch_size)
    return result


def _prune_into(result: AccountPrune, account_id: uuid.UUID, *, now: datetime, batch_size: int | None) -> None:
    """``prune_account``, counting each batch in ``result`` as it commits (what a failure leaves is known)."""
    batch = batch_size or settings.RECORDINGS_PRUNE_BATCH
    with account_scope(account_id):
        cameras = list(CameraRecordingSettings.objects.values_list("camera_id", "retention_days"))
    for camera_id, retention_days in cameras:
        cutoff = now - timedelta(days=retention_days)
        while True:
            with account_scope(account_id):
                doomed = list(
                    Recording.objects.filter(camera_id=camera_id, started_at__lt=cutoff)
                    .order_by("started_at", "pk")
                    .only("pk", "account_id", "stored_bytes")[:batch]
                )
                recordings_purge(doomed)
            result.expired += len(doomed)
            result.bytes_freed += sum(recording.stored_bytes for recording in doomed)
            if len(doomed) < batch:
                break
    while True:
        with account_scope(account_id):
            # The household's row, locked: an upload completing now makes room under the same lock,
            # so the two never pick (and wait on) the same clips.
            lock_household(account_id)
            count, freed, more = _prune_oldest(account_id, batch=batch, keep=None)
        result.over_quota += count
        result.bytes_freed += freed
        if not more:
            break


def lock_household(account_id: uuid.UUID) -> int:
    """Lock the household's row until the transaction ends; its quota in bytes. What
    serializes the writes that must agree on its storage: uploads created, clips pruned."""
    quota = Account.objects.select_for_update().filter(pk=account_id).values_list("storage_quota_bytes", flat=True)
    return int(quota.first() or 0)


def _prune_oldest(account_id: uuid.UUID, *, batch: int, keep: uuid.UUID | None) -> tuple[int, int, bool]:
    """One batch of the household's oldest clips (never ``keep``) while it is over quota:
    how many went, the bytes freed, and whether it may still be over."""
    usage = storage_usage(account_id)
    excess = usage.used_bytes - usage.quota_bytes
    if excess <= 0:
        return 0, 0, False
    doomed, freed = [], 0
    candidates = Recording.objects.exclude(pk=keep) if keep is not None else Recording.objects.all()
    for recording in candidates.order_by("started_at", "pk").only("pk", "account_id", "stored_bytes")[:batch]:
        if freed >= excess:
            break
        doomed.append(recording)
        freed += recording.stored_bytes
    if not doomed:
        return 0, 0, False
    recordings_purge(doomed)
    return len(doomed), freed, freed < excess


def make_room(account_id: uuid.UUID, *, keep: uuid.UUID) -> AccountPrune:
    """A clip ``keep`` was just stored: delete the household's oldest other clips while it
    stores more than its quota (rows now, files once the caller commits). Runs in the
    caller's scope and transaction, with the household's row locked here."""
    require_account_scope(account_id)
    result = AccountPrune(account_id=str(account_id))
    lock_household(account_id)
    batch = settings.RECORDINGS_PRUNE_BATCH
    while True:
        count, freed, more = _prune_oldest(account_id, batch=batch, keep=keep)
        result.over_quota += count
        result.bytes_freed += freed
        if not more:
            return result
