"""Processing one uploaded clip: container and index, metadata, poster, motion events.

Runs in the Celery worker (``recordings.tasks.process_recording``) in three steps,
each database step a short transaction of its own, so that no transaction (nor
SQLite's write lock) stays open while a clip is decoded:

1. in the household's scope: re-fetch the recording (gone, READY or FAILED:
   nothing to do), mark it PROCESSING and commit, so the household sees progress;
2. outside any transaction: decrypt the clip into a private folder (``mkdtemp``,
   mode 0700, under ``RECORDINGS_PROCESSING_DIR``, removed in ``finally``: the
   only place plaintext exists), check what the file is and rewrite it as an MP4
   with its index first if needed (``recordings.video.containers``), then analyse
   it, both in the isolated child process (``recordings.video.isolate``), then
   write the poster and the remuxed clip (each encrypted in full, then renamed
   over the old file, through ``ClipStorage.replace``);
3. in the household's scope again: lock the row and store what was found
   (READY, with a warning if damaged stretches were skipped or sound left out,
   and marked "download to play" if browsers cannot play its video), or the
   reason it failed (FAILED). If the row was deleted meanwhile,
   the files step 2 wrote are removed (the deletion may have removed the old
   ones before step 2 wrote new ones).

One attempt at a time: step 1 claims the clip with a conditional UPDATE that
counts the attempt (``processing_attempts``) and stamps it
(``processing_started_at``, renewed by a heartbeat while the attempt works);
only that attempt may store its outcome in step 3. Another attempt may take
over only once the claim has not been renewed for
``RECORDINGS_PROCESSING_STALE_S`` (its worker is dead), or when the requeue
(``recordings.requeue``) hands it a claim it made.
A redelivered task (the worker died: acks late, reject on worker lost) that finds
a fresh claim answers ``BUSY`` and looks again later; motion events are
replaced, not added.

A worker killed mid-task (hard time limit, OOM, deploy: SIGKILL skips ``finally``)
leaves its folder behind, with a decrypted clip in it. ``remove_stale_folders``
deletes such folders once no live task can own them; it runs when a worker
starts (``recordings.apps``), hourly and in the daily sweep.
"""

import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.tenancy import account_scope
from recordings import files
from recordings.extensions import clip_ready_on_commit
from recordings.models import MotionEvent, Recording, RecordingStatus
from recordings.storage import StorageError
from recordings.video import reasons
from recordings.video.isolate import prepare_isolated, run_isolated
from recordings.video.reasons import Reason
from recordings.video.results import Analysis, Gap, MotionSettings, Prepared, VideoError

__all__ = ["BUSY", "MISSING", "TOO_LONG", "process", "processing_root", "readable_reason", "remove_stale_folders"]

logger = logging.getLogger("nvr.recordings.processing")

MISSING = "missing"  # what ``process`` returns when the recording is not (or no longer) there
BUSY = "busy"  # what it returns when another attempt holds a fresh claim on the clip
TOO_LONG = reasons.TOO_LONG
UNREADABLE = reasons.UNREADABLE
INTERNAL = reasons.INTERNAL
REASON_LENGTH = 300  # Recording.failure_reason's max_length
_COPY_SIZE = 1024 * 1024
FOLDER_PREFIX = "nvr-process-"
# Past the task's hard time limit (the worker kills the task then), so no live task owns the folder.
STALE_MARGIN = timedelta(minutes=10)
# Server paths in a decoder's message (the decrypted clip's name, a traceback's source file):
# quoted ones whole (they may hold spaces), else a "/" that starts a word (not "frames/s", "3/4").
_QUOTED_PATH = re.compile(r"""(['"])/[^'"]*\1""")
_BARE_PATH = re.compile(r"""(?<![\w.~/-])/[^\s'"(),;:\[\]<>]+""")


@dataclass(frozen=True, slots=True)
class _Job:
    account_id: uuid.UUID
    recording_id: uuid.UUID
    attempt: int  # the claim (``Recording.processing_attempts``) this attempt holds
    started_at: datetime
    motion: MotionSettings
    data_key: bytes


@dataclass(frozen=True, slots=True)
class _Outcome:
    analysis: Analysis
    size_bytes: int
    sha256: str
    prepared: Prepared


def process(account_id: uuid.UUID | str, recording_id: uuid.UUID | str, *, claim: int | None = None) -> str:
    """Process the household's recording; returns its final status, ``MISSING`` or ``BUSY``.

    ``claim``: the attempt number the requeue claimed for this run (``recordings.requeue``).

    Never raises for a bad clip: a clip that cannot be used ends FAILED with a
    reason the household can read. Call outside any transaction (each step
    commits on its own).
    """
    try:
        account, pk = uuid.UUID(str(account_id)), uuid.UUID(str(recording_id))
    except ValueError:
        return MISSING
    started = _start(account, pk, claim)
    if not isinstance(started, _Job):
        return started
    job = started
    try:
        with _Heartbeat(job):
            outcome = _work(job)
        return _finish(job, outcome)
    except VideoError as error:
        return _fail(job, error.reason, error.described)
    except SoftTimeLimitExceeded:
        return _fail(job, TOO_LONG)
    except (StorageError, OSError) as error:
        # A decryption failure (a moved or tampered file) or a missing file: never say which.
        logger.warning("recording %s: stored clip unreadable: %s", pk, type(error).__name__)
        return _fail(job, UNREADABLE)
    except Exception:
        logger.exception("recording %s: processing failed", pk)
        return _fail(job, INTERNAL)


class _Heartbeat:
    """While the attempt works, renews its claim every quarter of ``RECORDINGS_PROCESSING_STALE_S``.

    A live attempt's claim so never looks stale however long the clip takes (the hard time
    limit still ends it), and a dead worker's goes stale within that threshold: the
    threshold can be a minute rather than above the time limit, and a killed clip is
    taken over about a minute after its worker died.
    """

    def __init__(self, job: _Job) -> None:
        self.job = job
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"claim-{job.recording_id}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)  # a renewal stuck on the database must not hold up the outcome

    def _run(self) -> None:
        every = max(settings.RECORDINGS_PROCESSING_STALE_S / 4, 0.05)
        try:
            while not self.stop.wait(every):
                self._renew()
        finally:
            connection.close()  # this thread's own connection

    def _renew(self) -> None:
        try:
            with account_scope(self.job.account_id), transaction.atomic():
                # SKIP LOCKED: a row another transaction holds is left for the next beat,
                # never waited on (this attempt's own steps lock it only briefly).
                ours = Recording.objects.select_for_update(skip_locked=True).filter(
                    pk=self.job.recording_id,
                    status=RecordingStatus.PROCESSING,
                    processing_attempts=self.job.attempt,
                )
                Recording.objects.filter(pk__in=ours.values("pk")).update(processing_started_at=timezone.now())
        except Exception as error:
            # A missed renewal is retried at the next beat; only the latest claim ever stores.
            logger.warning("recording %s: could not renew the processing claim: %s", self.job.recording_id, error)


def _motion_settings(recording: Recording) -> MotionSettings:
    tuning = recording.camera.recording_settings
    return MotionSettings(sensitivity=tuning.motion_sensitivity, min_area_fraction=tuning.motion_min_area_percent / 100)


def _start(account_id: uuid.UUID, pk: uuid.UUID, claim: int | None) -> _Job | str:
    with account_scope(account_id):
        recording = (
            Recording.objects.select_for_update(of=("self",))
            .select_related("camera__recording_settings")
            .filter(pk=pk)
            .first()
        )
        if recording is None:
            return MISSING
        if recording.status in (RecordingStatus.READY, RecordingStatus.FAILED):
            return str(recording.status)
        try:
            motion = _motion_settings(recording)
        except ValueError as error:
            _mark_failed(recording, f"the camera's motion settings are invalid ({error})")
            return str(RecordingStatus.FAILED)
        attempt = _claim(recording, claim)
        if attempt is None:
            return BUSY
        return _Job(
            account_id=account_id,
            recording_id=pk,
            attempt=attempt,
            started_at=recording.started_at,
            motion=motion,
            data_key=files.data_key(account_id),
        )


def _claim(recording: Recording, claim: int | None) -> int | None:
    """This attempt's number, or None while another attempt's claim is fresh.

    Conditional UPDATEs, so two attempts that read the row at once cannot both win
    (SQLite has no row locks; on PostgreSQL the row is also locked).
    """
    now = timezone.now()
    rows = Recording.objects.filter(pk=recording.pk, status__in=(RecordingStatus.UPLOADED, RecordingStatus.PROCESSING))
    if claim is not None:
        # Handed over by the requeue, which counted the attempt: start its clock, unless superseded.
        taken = rows.filter(processing_attempts=claim).update(
            status=RecordingStatus.PROCESSING, failure_reason="", processing_started_at=now
        )
        return claim if taken else None
    claimed_at = recording.processing_started_at
    stale = timedelta(seconds=settings.RECORDINGS_PROCESSING_STALE_S)
    if recording.status == RecordingStatus.PROCESSING and claimed_at is not None and claimed_at > now - stale:
        return None
    seen = recording.processing_attempts
    taken = rows.filter(processing_attempts=seen).update(
        status=RecordingStatus.PROCESSING,
        failure_reason="",
        processing_attempts=seen + 1,
        processing_started_at=now,
    )
    return seen + 1 if taken else None


def _work(job: _Job) -> _Outcome:
    """Decrypt, remux if needed, analyse, and store the poster and the remuxed clip."""
    timeout_s, memory_mb = settings.RECORDINGS_PROCESS_TIMEOUT_S, settings.RECORDINGS_PROCESS_MEMORY_MB
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=processing_root()))  # mode 0700
    try:
        source = folder / "clip.mp4"
        size, sha256 = _decrypt(job, source)
        if size == 0:
            raise VideoError(reasons.EMPTY)
        playable = folder / "playable.mp4"
        prepared = prepare_isolated(source, playable, timeout_s=timeout_s, memory_mb=memory_mb)
        remuxed = prepared.remuxed
        final = playable if remuxed else source
        # The file that will be stored is the one analysed: READY means it decodes.
        analysis = run_isolated(final, job.motion, timeout_s=timeout_s, memory_mb=memory_mb)
        if remuxed:
            size, sha256 = _sha256_of(final)
        if analysis.poster_jpeg:
            _replace(job, files.THUMBNAIL, io.BytesIO(analysis.poster_jpeg))
        else:
            files.clip_storage.delete(account_id=job.account_id, object_id=job.recording_id, kind=files.THUMBNAIL)
        if remuxed:
            with final.open("rb") as clip:
                _replace(job, files.CLIP, clip)
        return _Outcome(analysis=analysis, size_bytes=size, sha256=sha256, prepared=prepared)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _decrypt(job: _Job, target: Path) -> tuple[int, str]:
    """Write the stored clip's plaintext to ``target``; returns its size and SHA-256.

    The size comes from the file itself, not the row: a retry after a crash
    between replacing the clip and saving the row still reads the whole file.
    """
    storage, account_id, pk = files.clip_storage, job.account_id, job.recording_id
    size = storage.plaintext_size(account_id=account_id, object_id=pk, kind=files.CLIP)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        if size:
            pieces = storage.open_range(
                account_id=account_id,
                object_id=pk,
                kind=files.CLIP,
                data_key=job.data_key,
                start=0,
                end_inclusive=size - 1,
            )
            for piece in pieces:
                digest.update(piece)
                out.write(piece)
    return size, digest.hexdigest()


def _sha256_of(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while block := file.read(_COPY_SIZE):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _replace(job: _Job, kind: str, source: io.BufferedIOBase) -> None:
    files.clip_storage.replace(
        account_id=job.account_id,
        object_id=job.recording_id,
        kind=kind,
        data_key=job.data_key,
        source=source,
    )


def _finish(job: _Job, outcome: _Outcome) -> str:
    analysis = outcome.analysis
    with account_scope(job.account_id):
        recording = Recording.objects.select_for_update().filter(pk=job.recording_id).first()
        if recording is None:
            files.delete(account_id=job.account_id, recording_id=job.recording_id)
            return MISSING
        if not _holds_claim(recording, job):
            return str(recording.status)  # another attempt finished first, or took over
        MotionEvent.objects.filter(recording=recording).delete()
        MotionEvent.objects.bulk_create(
            MotionEvent(
                account_id=job.account_id,
                recording=recording,
                started_at=job.started_at + timedelta(seconds=event.start_s),
                ended_at=job.started_at + timedelta(seconds=max(event.start_s, event.end_s)),
                score=event.score,
            )
            for event in analysis.events
        )
        info = analysis.info
        recording.status, recording.failure_reason = RecordingStatus.READY, ""
        recording.size_bytes, recording.sha256 = outcome.size_bytes, outcome.sha256
        recording.duration_s, recording.fps = info.duration_s, info.fps
        prepared = outcome.prepared
        # FFmpeg's codec name ("h264", "hevc", "mpeg4", "vp9"), not OpenCV's FOURCC ("FMP4" for MPEG-4 Part 2).
        codec = prepared.codec or info.codec
        recording.width, recording.height, recording.codec = info.width, info.height, codec[:40]
        recording.container = prepared.container
        recording.playable_in_browser = not prepared.not_playable_reason
        recording.not_playable_reason = readable_reason(prepared.not_playable_reason, empty="")
        gaps = merge_gaps([*prepared.gaps, *analysis.gaps])
        recording.warning = readable_reason(warning(prepared.notes, gaps), empty="")
        recording.reasons_json = _described(
            recording,
            not_playable=reasons.parse(prepared.not_playable_reason),
            warning=warning_reason(prepared.notes, gaps),
        )
        recording.motion_score, recording.has_motion = analysis.clip_score, bool(analysis.events)
        recording.has_thumbnail = bool(analysis.poster_jpeg)
        recording.stored_bytes = files.stored_bytes(account_id=job.account_id, recording_id=job.recording_id)
        recording.processed_at = timezone.now()
        recording.save()
        if recording.has_motion:
            # After commit: whoever is told (notifications) finds the clip and its events stored.
            clip_ready_on_commit(account_id=job.account_id, camera_id=recording.camera_id, recording_id=recording.pk)
        return str(RecordingStatus.READY)


def _fail(job: _Job, reason: str, described: Reason | None = None) -> str:
    with account_scope(job.account_id):
        recording = Recording.objects.select_for_update().filter(pk=job.recording_id).first()
        if recording is None:
            files.delete(account_id=job.account_id, recording_id=job.recording_id)
            return MISSING
        if not _holds_claim(recording, job):
            return str(recording.status)
        _mark_failed(recording, reason, described)
        return str(RecordingStatus.FAILED)


def _holds_claim(recording: Recording, job: _Job) -> bool:
    return recording.status == RecordingStatus.PROCESSING and recording.processing_attempts == job.attempt


def _mark_failed(recording: Recording, reason: str, described: Reason | None = None) -> None:
    """FAILED with a one-line reason; no motion events and no poster (the clip stays, for download)."""
    MotionEvent.objects.filter(recording=recording).delete()
    account_id, pk = recording.account_id, recording.pk
    files.clip_storage.delete(account_id=account_id, object_id=pk, kind=files.THUMBNAIL)
    recording.status = RecordingStatus.FAILED
    recording.failure_reason = readable_reason(reason)
    recording.warning, recording.not_playable_reason, recording.playable_in_browser = "", "", True
    recording.reasons_json = _described(recording, failure=described or reasons.parse(reason))
    recording.has_motion, recording.motion_score, recording.has_thumbnail = False, 0.0, False
    recording.stored_bytes = files.stored_bytes(account_id=account_id, recording_id=pk)
    recording.processed_at = timezone.now()
    recording.save()


def _described(recording: Recording, **described: Reason | None) -> str | None:
    """The JSON kept next to the English columns: only reasons that render as exactly what is stored.

    A sentence cut short or with a path replaced (``readable_reason``) then shows as the stored English.
    """
    stored = {
        "failure": recording.failure_reason,
        "not_playable": recording.not_playable_reason,
        "warning": recording.warning,
    }
    kept = {}
    for field, value in described.items():
        try:
            if value is not None and reasons.render(value) == stored[field]:
                kept[field] = value
        except ValueError:
            logger.warning("recording %s: its %s reason does not match the catalogue", recording.pk, field)
    return json.dumps(kept, ensure_ascii=False) if kept else None


def readable_reason(reason: str, *, empty: str = "processing failed") -> str:
    """One line of at most ``REASON_LENGTH`` characters, with any server path replaced by ``<file>``.

    A reason is one sentence (no trailing period: pages show it after a colon). A
    longer one is cut at a word and ends with "…".
    """
    reason = _BARE_PATH.sub("<file>", _QUOTED_PATH.sub("<file>", reason))
    reason = " ".join(reason.split())
    if len(reason) > REASON_LENGTH:
        reason = reason[: REASON_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return reason or empty


MAX_GAPS_NAMED = 3
GAP_TOLERANCE_S = 0.05


def merge_gaps(gaps: list[Gap]) -> list[Gap]:
    """Sorted, with overlapping or touching stretches (remuxing and the analysis may both see one) made one."""
    merged: list[Gap] = []
    for gap in sorted(gaps, key=lambda gap: gap.start_s):
        if merged and gap.start_s <= merged[-1].end_s + GAP_TOLERANCE_S:
            merged[-1] = Gap(merged[-1].start_s, max(merged[-1].end_s, gap.end_s))
        else:
            merged.append(gap)
    return merged


def warning(notes: list[str], gaps: list[Gap]) -> str:
    """What a READY clip lost, in one sentence: damaged stretches (how long, where), then remuxing's notes."""
    parts = []
    if gaps:
        lost = sum(gap.end_s - gap.start_s for gap in gaps)
        spans = [f"{gap.start_s:.1f} to {gap.end_s:.1f} s" for gap in gaps[:MAX_GAPS_NAMED]]
        if len(gaps) > MAX_GAPS_NAMED:
            spans.append(f"{len(gaps) - MAX_GAPS_NAMED} more")
        where = spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]
        stretches = "a damaged stretch" if len(gaps) == 1 else f"{len(gaps)} damaged stretches"
        parts.append(f"{lost:.1f} s of video could not be decoded ({stretches}, at {where} into the clip)")
    parts.extend(notes)
    return "; ".join(parts)


def warning_reason(notes: list[str], gaps: list[Gap]) -> Reason | None:
    """``warning``'s sentence as a reason to translate; None if a note is not in the catalogue."""
    parts = []
    if gaps:
        spans = [
            reasons.reason(reasons.SPAN, start=f"{gap.start_s:.1f}", end=f"{gap.end_s:.1f}")
            for gap in gaps[:MAX_GAPS_NAMED]
        ]
        if len(gaps) > MAX_GAPS_NAMED:
            spans.append(reasons.reason(reasons.MORE, count=str(len(gaps) - MAX_GAPS_NAMED)))
        lists = {2: reasons.LIST_TWO, 3: reasons.LIST_THREE, 4: reasons.LIST_FOUR}
        names = [*["first", "second", "third"][: len(spans) - 1], "last"]
        where = spans[0]
        if len(spans) > 1:
            where = reasons.reason(lists[len(spans)], **dict(zip(names, spans, strict=True)))
        lost = f"{sum(gap.end_s - gap.start_s for gap in gaps):.1f}"
        if len(gaps) == 1:
            parts.append(reasons.reason(reasons.DAMAGED_ONE, lost=lost, where=where))
        else:
            parts.append(reasons.reason(reasons.DAMAGED_MANY, lost=lost, count=str(len(gaps)), where=where))
    for note in notes:
        described = reasons.parse(note)
        if described is None:
            return None
        parts.append(described)
    if not parts:
        return None
    joined = parts[0]
    for part in parts[1:]:
        joined = reasons.reason(reasons.WARNING_PARTS, first=joined, second=part)
    return joined


def processing_root() -> Path:
    """``RECORDINGS_PROCESSING_DIR``, created private (0700) if missing."""
    root = Path(settings.RECORDINGS_PROCESSING_DIR)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def remove_stale_folders(*, older_than: timedelta | None = None) -> int:
    """Delete processing folders untouched for ``older_than`` (default: hard time limit + margin); how many.

    Only ``nvr-process-*`` folders directly under ``RECORDINGS_PROCESSING_DIR``,
    never through a symbolic link. Age is the newest modification time of the
    folder and its files: a live task writes there, and is killed at the limit.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.RECORDINGS_PROCESS_TIME_LIMIT_S) + STALE_MARGIN
    cutoff = time.time() - older_than.total_seconds()
    try:
        entries = list(os.scandir(settings.RECORDINGS_PROCESSING_DIR))
    except FileNotFoundError:
        return 0
    removed = 0
    for entry in entries:
        if not entry.name.startswith(FOLDER_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if _last_modified(entry.path) > cutoff:
                continue
            shutil.rmtree(entry.path)
        except FileNotFoundError:
            continue  # removed meanwhile
        except OSError:
            logger.exception("stale processing folder %s could not be removed", entry.name)
            continue
        logger.warning("removed stale processing folder %s (a worker was killed mid-task)", entry.name)
        removed += 1
    return removed


def _last_modified(path: str) -> float:
    newest = os.lstat(path).st_mtime
    with os.scandir(path) as entries:
        for entry in entries:
            newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
    return newest
