"""The sweep: storage and rows back in agreement, and stale partial uploads gone.

File and row normally go together (``recordings.services``), but a crash between
the two can leave:

- a file without a row (the process died after storing a clip and before its
  row committed, or after a row's deletion committed and before its files went):
  the file is deleted;
- a row without its clip (a file lost or removed by hand): the row is deleted;
  a READY row whose thumbnail is missing gets ``has_thumbnail = False``;
- partial uploads nobody will finish (``recordings.upload.cleanup``);
- a recording still UPLOADED or PROCESSING long after it was created (its task
  message was lost, or its worker died for good): its processing is enqueued again;
- processing folders a killed worker left on this host, with a decrypted clip in
  them (``recordings.processing.remove_stale_folders``).

The storage is walked under ``accounts/<household hex>/<kind>/<xx>/<id hex>.nvrc``
with ``Storage.listdir`` (local disk and S3 alike). Household ids are listed with
the logged escape hatch; every row is read inside its household's own scope.

Races with the live system: an upload stores its clip just before its row
commits, so files younger than the grace period are left alone, and so are files
of an upload in progress (a completed resumable upload's clip is a hard link to
its partial file, so its modification time can be old); a row is judged
only if it was created before its household's files were listed (its clip was
stored before the row), and storage is asked again before anything is deleted.
``dry_run`` reports without repairing.

One household's failure (its storage cannot be listed, a file cannot be deleted)
is logged and reported in ``failed_households`` and the notes; the others are
still swept, and the next sweep tries it again.
"""

import importlib
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy import account_scope, unscoped
from recordings import files, processing
from recordings.models import Recording, RecordingStatus, Upload
from recordings.services import recordings_purge
from recordings.storage import KINDS, ClipStorage

__all__ = ["SweepReport", "sweep"]

logger = logging.getLogger("nvr.recordings.sweep")

ROOT = "accounts"
_HEX32 = re.compile(r"[0-9a-f]{32}")
_OBJECT = re.compile(r"([0-9a-f]{32})\.nvrc")
_QUERY_BATCH = 500
LISTED_MAX = 1000  # names and ids listed in a report; the counts are always complete


@dataclass(slots=True)
class SweepReport:
    dry_run: bool
    households: int = 0
    files_checked: int = 0
    orphan_files: int = 0
    orphan_bytes: int = 0
    rows_without_clip: int = 0
    missing_thumbnails: int = 0
    # Recordings still uploaded/processing long after their upload (a lost task message): enqueued again.
    requeued: int = 0
    unexpected_names: int = 0
    # None: the partial-upload cleanup was not run (dry run, or not available).
    stale_partials: int | None = None
    expired_uploads: int | None = None
    stale_processing_folders: int | None = None
    # Households (hex) whose sweep stopped on an error (logged); the others were swept.
    failed_households: list[str] = field(default_factory=list)
    # Examples, at most LISTED_MAX each: storage names, and recording ids.
    orphan_file_names: list[str] = field(default_factory=list)
    rows_without_clip_ids: list[str] = field(default_factory=list)
    missing_thumbnail_ids: list[str] = field(default_factory=list)
    requeued_ids: list[str] = field(default_factory=list)
    unexpected_file_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _listed(items: list[str], item: str) -> None:
    if len(items) < LISTED_MAX:
        items.append(item)


@dataclass(slots=True)
class _Listing:
    """One household's stored objects: kind -> object id -> storage name."""

    objects: dict[str, dict[uuid.UUID, str]]
    listed_at: datetime


def _list_household(storage: ClipStorage, account_hex: str, report: SweepReport) -> _Listing:
    listed_at = timezone.now()
    objects: dict[str, dict[uuid.UUID, str]] = {kind: {} for kind in KINDS}
    for kind in KINDS:
        base = f"{ROOT}/{account_hex}/{kind}"
        prefixes, strays = storage.listdir(base)
        for stray in strays:
            report.unexpected_names += 1
            _listed(report.unexpected_file_names, f"{base}/{stray}")
        for prefix in prefixes:
            _, names = storage.listdir(f"{base}/{prefix}")
            for name in names:
                match = _OBJECT.fullmatch(name)
                if match is None or match.group(1)[:2] != prefix:
                    # Not ours to judge (a temporary or foreign file): reported, never deleted.
                    report.unexpected_names += 1
                    _listed(report.unexpected_file_names, f"{base}/{prefix}/{name}")
                    continue
                objects[kind][uuid.UUID(match.group(1))] = f"{base}/{prefix}/{name}"
                report.files_checked += 1
    return _Listing(objects=objects, listed_at=listed_at)


def _batches(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for item in ids:
        batch.append(item)
        if len(batch) == _QUERY_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _sweep_files(
    storage: ClipStorage, account_id: uuid.UUID, listing: _Listing, grace_cutoff: datetime, report: SweepReport
) -> None:
    """Delete the household's files whose recording (or upload in progress) does not exist."""
    found = set().union(*(set(objects) for objects in listing.objects.values()))
    known: set[uuid.UUID] = set()
    with account_scope(account_id):
        for batch in _batches(found):
            # Uploads first: completing one publishes its clip, then creates the row and deletes the
            # upload in one transaction; read in this order, one of the two is seen whenever it commits.
            known |= set(Upload.objects.filter(recording_id__in=batch).values_list("recording_id", flat=True))
            known |= set(Recording.objects.filter(pk__in=batch).values_list("pk", flat=True))
    for kind in sorted(KINDS):
        for object_id, name in sorted(listing.objects[kind].items()):
            if object_id in known or not storage.modified_before(name, grace_cutoff):
                continue
            report.orphan_files += 1
            _listed(report.orphan_file_names, name)
            try:
                report.orphan_bytes += storage.size(name)
            except FileNotFoundError:
                continue
            if not report.dry_run:
                storage.delete(account_id=account_id, object_id=object_id, kind=kind)


def _sweep_rows(account_id: uuid.UUID, listing: _Listing, stuck_before: datetime, report: SweepReport) -> None:
    """Delete rows whose clip is missing; clear ``has_thumbnail`` where the thumbnail is; requeue stuck ones."""
    clips, thumbnails = listing.objects[files.CLIP], listing.objects[files.THUMBNAIL]
    storage = files.clip_storage
    with account_scope(account_id):
        rows = list(
            Recording.objects.filter(created_at__lt=listing.listed_at).values_list(
                "pk", "status", "has_thumbnail", "created_at"
            )
        )
    lost: list[uuid.UUID] = []
    no_thumbnail: list[uuid.UUID] = []
    stuck: list[uuid.UUID] = []
    for pk, status, has_thumbnail, created_at in rows:
        if pk not in clips and not storage.exists(account_id=account_id, object_id=pk, kind=files.CLIP):
            lost.append(pk)
        elif status in (RecordingStatus.UPLOADED, RecordingStatus.PROCESSING) and created_at < stuck_before:
            stuck.append(pk)
        elif (
            status == RecordingStatus.READY
            and has_thumbnail
            and pk not in thumbnails
            and not storage.exists(account_id=account_id, object_id=pk, kind=files.THUMBNAIL)
        ):
            no_thumbnail.append(pk)
    report.rows_without_clip += len(lost)
    report.missing_thumbnails += len(no_thumbnail)
    for pk in lost:
        _listed(report.rows_without_clip_ids, str(pk))
    for pk in no_thumbnail:
        _listed(report.missing_thumbnail_ids, str(pk))
    report.requeued += len(stuck)
    for pk in stuck:
        _listed(report.requeued_ids, str(pk))
    if report.dry_run:
        return
    from recordings.tasks import process_recording  # the task module imports this one

    for pk in stuck:
        process_recording.delay(str(account_id), str(pk))  # processing is idempotent: a duplicate is harmless
    for batch in _batches(lost):
        with account_scope(account_id):
            recordings_purge(Recording.objects.filter(pk__in=batch).only("pk", "account_id"))
    for batch in _batches(no_thumbnail):
        with account_scope(account_id):
            Recording.objects.filter(pk__in=batch, has_thumbnail=True).update(has_thumbnail=False)


def _clean_partials(report: SweepReport, older_than: timedelta) -> None:
    if report.dry_run:
        report.notes.append("partial uploads: not cleaned in a dry run")
        return
    try:
        cleanup = importlib.import_module("recordings.upload.cleanup")
    except ImportError:
        report.notes.append("partial uploads: recordings.upload.cleanup is not available")
        return
    try:
        report.expired_uploads = int(cleanup.expire_uploads())
        report.stale_partials = int(cleanup.remove_stray_partials(older_than=older_than))
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        logger.exception("sweep: partial uploads could not be cleaned")
        report.notes.append(f"partial uploads: not cleaned ({type(error).__name__}; see the log)")


def sweep(
    *,
    dry_run: bool = False,
    grace: timedelta | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SweepReport:
    """Find and (unless ``dry_run``) repair disagreements; ``progress(done, total, household hex)``."""
    grace = grace if grace is not None else timedelta(minutes=settings.RECORDINGS_SWEEP_GRACE_MINUTES)
    report = SweepReport(dry_run=dry_run)
    storage = files.clip_storage
    grace_cutoff = timezone.now() - grace
    # Well past the processing task's hard time limit: nobody is still working on these.
    stuck_before = timezone.now() - max(grace, timedelta(seconds=2 * settings.RECORDINGS_PROCESS_TIME_LIMIT_S))
    with unscoped("sweep: list the households whose files and rows to compare"):
        account_ids = set(Account.objects.values_list("pk", flat=True))
    directories, strays = storage.listdir(ROOT)
    for stray in strays:
        report.unexpected_names += 1
        _listed(report.unexpected_file_names, f"{ROOT}/{stray}")
    households = {account.hex for account in account_ids}
    for directory in directories:
        if _HEX32.fullmatch(directory):
            households.add(directory)
        else:
            report.unexpected_names += 1
            _listed(report.unexpected_file_names, f"{ROOT}/{directory}")
    report.households = len(households)
    for done, account_hex in enumerate(sorted(households), start=1):
        account_id = uuid.UUID(account_hex)
        try:
            listing = _list_household(storage, account_hex, report)
            _sweep_files(storage, account_id, listing, grace_cutoff, report)
            if account_id in account_ids:
                _sweep_rows(account_id, listing, stuck_before, report)
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:
            logger.exception("sweep: household %s failed; continuing with the others", account_hex)
            report.failed_households.append(account_hex)
            report.notes.append(f"household {account_hex}: not swept ({type(error).__name__}; see the log)")
        if progress is not None:
            progress(done, len(households), account_hex)
    _clean_partials(report, grace)
    _clean_processing_folders(report)
    return report


def _clean_processing_folders(report: SweepReport) -> None:
    if report.dry_run:
        report.notes.append("processing folders: not cleaned in a dry run")
        return
    try:
        report.stale_processing_folders = processing.remove_stale_folders()
    except OSError as error:
        logger.exception("sweep: stale processing folders could not be removed")
        report.notes.append(f"processing folders: not cleaned ({type(error).__name__}; see the log)")
