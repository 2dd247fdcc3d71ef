"""Processing in Celery (recordings.processing): real clips, real hostile files, the isolated decoder."""

import functools
import hashlib
import io
import os
import stat
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings as django_settings
from django.core.files.storage import FileSystemStorage

from accounts.tenancy import account_scope
from conftest import World
from devices.models import Camera, CameraKind
from devices.services import camera_create
from recordings import files, processing
from recordings.models import CameraRecordingSettings, MotionEvent, Recording, RecordingStatus
from recordings.services import recordings_purge
from recordings.storage import ClipStorage, StorageError
from recordings.storage.backend import replace_encrypted
from recordings.tasks import process_recording
from recordings.tests.factories import make_recording
from recordings.video.faststart import moov_before_mdat
from recordings.video.isolate import prepare_isolated, run_isolated
from recordings.video.results import VideoError
from tools import synth

pytestmark = pytest.mark.django_db


@functools.cache
def clip(*, faststart: bool = True, contrast: float = 1.0) -> bytes:
    """A 2 s, 320x180, 10 fps H.264 clip with motion from 0.5 s to 1.5 s."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        synth.make_clip(
            path, seconds=2, fps=10, width=320, height=180, motion=[(0.5, 1.5)], faststart=faststart, contrast=contrast
        )
        return path.read_bytes()


@functools.cache
def hostile(kind: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        good, bad = Path(folder) / "good.mp4", Path(folder) / "bad.mp4"
        good.write_bytes(clip(faststart=False))
        if kind == "truncated":
            synth.make_truncated_copy(good, bad, fraction=0.6)
        elif kind == "random":
            synth.make_random_file(bad, size=64 * 1024)
        else:
            synth.make_huge_dimensions_copy(good, bad)
        return bad.read_bytes()


def uploaded(camera: Camera, data: bytes) -> Recording:
    with account_scope(camera.account_id):
        return make_recording(camera, status=RecordingStatus.UPLOADED, clip=data)


def run(recording: Recording, account_id: uuid.UUID | None = None) -> str:
    """The task, run eagerly, as the worker would (JSON ids, the household's first)."""
    result = process_recording.apply(args=(str(account_id or recording.account_id), str(recording.pk)))
    return str(result.get())


def fetch(recording: Recording) -> Recording:
    with account_scope(recording.account_id):
        return Recording.objects.get(pk=recording.pk)


def events(recording: Recording) -> list[MotionEvent]:
    with account_scope(recording.account_id):
        return list(MotionEvent.objects.filter(recording_id=recording.pk))


def stored(recording: Recording, kind: str = files.CLIP) -> bytes:
    with account_scope(recording.account_id):
        size = files.clip_storage.plaintext_size(account_id=recording.account_id, object_id=recording.pk, kind=kind)
        return b"".join(files.open_range(recording, kind=kind, start=0, end_inclusive=size - 1))


def frames(data: bytes) -> list[np.ndarray]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        path.write_bytes(data)
        capture = cv2.VideoCapture(str(path))
        decoded = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            decoded.append(frame)
        capture.release()
        return decoded


def test_it_processes_a_clip_to_ready_with_metadata_poster_and_motion(world: World, monkeypatch, settings, tmp_path):
    """Metadata, motion events in wall-clock time, an encrypted poster; PROCESSING while it works; no plaintext left."""
    recording = uploaded(world.a.cameras[0], clip())
    seen: list[str] = []
    real_run_isolated = run_isolated

    def spy(*args, **kwargs):
        seen.append(fetch(recording).status)
        return real_run_isolated(*args, **kwargs)

    monkeypatch.setattr(processing, "run_isolated", spy)
    settings.RECORDINGS_PROCESSING_DIR = tmp_path

    assert run(recording) == RecordingStatus.READY
    assert seen == [RecordingStatus.PROCESSING]
    done = fetch(recording)
    assert (done.status, done.failure_reason, done.codec) == (RecordingStatus.READY, "", "h264")
    assert (done.width, done.height, done.fps) == (320, 180, 10.0)
    assert done.duration_s == pytest.approx(2.0, abs=0.2)
    assert (done.has_motion, done.has_thumbnail) == (True, True)
    assert 0 < done.motion_score <= 1
    assert done.processed_at is not None
    assert done.stored_bytes == files.stored_bytes(account_id=done.account_id, recording_id=done.pk)
    assert done.stored_bytes > done.size_bytes  # clip and poster, as ciphertext
    (event,) = events(done)
    assert done.started_at <= event.started_at < event.ended_at <= done.started_at + (done.ended_at - done.started_at)
    assert stored(done, files.THUMBNAIL)[:3] == b"\xff\xd8\xff"  # a JPEG
    assert list(tmp_path.iterdir()) == []  # the private temporary folder is gone


def test_it_moves_the_index_to_the_front_without_changing_the_frames(world: World):
    """A moov-at-end clip is stored index-first (re-encrypted, size and SHA-256 updated), same frames."""
    original = clip(faststart=False)
    recording = uploaded(world.a.cameras[0], original)

    assert run(recording) == RecordingStatus.READY
    done = fetch(recording)
    data = stored(done)
    assert data != original
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        file.write(data)
        file.flush()
        assert moov_before_mdat(file.name)
    assert (done.size_bytes, done.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    before, after = frames(original), frames(data)
    assert len(after) == len(before) == 20
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("truncated", "the MP4 file is incomplete: it was cut off before its index was written"),
        ("random", "the file is not a video file"),
        ("huge_dimensions", "over the limit of 4096x4096 pixels"),
    ],
)
def test_it_fails_a_hostile_file_with_a_readable_reason_and_keeps_serving(
    world: World, settings, kind: str, reason: str
):
    """Each hostile file ends FAILED within its limit; B's next good clip still processes."""
    settings.RECORDINGS_PROCESS_TIMEOUT_S = 20
    bad = uploaded(world.a.cameras[0], hostile(kind))

    started = time.monotonic()
    assert run(bad) == RecordingStatus.FAILED
    assert time.monotonic() - started < 2 * settings.RECORDINGS_PROCESS_TIMEOUT_S
    failed = fetch(bad)
    assert 0 < len(failed.failure_reason) <= 300
    assert reason in failed.failure_reason
    assert "Traceback" not in failed.failure_reason
    assert "\n" not in failed.failure_reason
    assert (failed.has_thumbnail, failed.has_motion, events(failed)) == (False, False, [])
    assert not files.clip_storage.exists(account_id=failed.account_id, object_id=failed.pk, kind=files.THUMBNAIL)

    good = uploaded(world.b.cameras[0], clip())
    assert run(good) == RecordingStatus.READY


def test_it_does_not_duplicate_motion_events_when_retried(world: World):
    """A redelivered task (row PROCESSING, its claim stale) replaces events; one for a READY row changes nothing."""
    recording = uploaded(world.a.cameras[0], clip())
    assert run(recording) == RecordingStatus.READY
    first = [(e.started_at, e.ended_at) for e in events(recording)]
    assert len(first) == 1
    with account_scope(recording.account_id):
        Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.PROCESSING, processing_started_at=None)

    assert run(recording) == RecordingStatus.READY
    assert [(e.started_at, e.ended_at) for e in events(recording)] == first
    processed_at = fetch(recording).processed_at
    assert run(recording) == RecordingStatus.READY
    assert fetch(recording).processed_at == processed_at


def test_it_finds_nothing_with_another_households_id(world: World):
    """B's recording handed to a task for A: nothing found, nothing changed."""
    theirs = world.b.recordings[1]
    assert run(theirs, account_id=world.a.account.pk) == processing.MISSING
    after = fetch(theirs)
    assert (after.status, after.processed_at, after.has_thumbnail) == (RecordingStatus.PROCESSING, None, False)


def test_it_exits_cleanly_when_the_recording_was_deleted(world: World):
    recording = uploaded(world.a.cameras[0], clip())
    with account_scope(recording.account_id):
        recordings_purge([recording])
    assert run(recording) == processing.MISSING
    assert process_recording.apply(args=(str(world.a.account.pk), "not-a-uuid")).get() == processing.MISSING


def test_it_processes_a_redelivered_recording_left_processing(world: World):
    """The fixture's clip left PROCESSING (a worker died) is processed to READY."""
    assert run(world.a.recordings[1]) == RecordingStatus.READY


def test_it_enqueues_processing_once_the_upload_commits(world: World, monkeypatch, django_capture_on_commit_callbacks):
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(process_recording, "delay", lambda *args: calls.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        recording = uploaded(world.a.cameras[0], clip())
        assert calls == []
    assert calls == [(str(recording.account_id), str(recording.pk))]


def test_it_fails_as_too_long_at_the_soft_time_limit(world: World, monkeypatch):
    """The soft limit ends the clip FAILED; the limits sit above the isolated decoder's own."""
    soft, hard = process_recording.soft_time_limit, process_recording.time_limit
    assert soft is not None
    assert hard is not None
    assert hard > soft > 2 * django_settings.RECORDINGS_PROCESS_TIMEOUT_S

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(processing, "run_isolated", too_slow)
    recording = uploaded(world.a.cameras[0], clip())
    assert run(recording) == RecordingStatus.FAILED
    assert fetch(recording).failure_reason == "processing took too long"


def test_it_fails_a_clip_stored_under_another_household(world: World):
    """A file that does not decrypt (moved from B) is a readable failure that says nothing more."""
    mine = uploaded(world.a.cameras[0], clip())
    theirs = world.b.recordings[0]
    with account_scope(theirs.account_id):
        data = stored(theirs)
    storage = files.clip_storage.storage
    stolen = storage.open(files.clip_storage.path_for(theirs.account_id, theirs.pk, files.CLIP), "rb").read()
    files.clip_storage.delete(account_id=mine.account_id, object_id=mine.pk, kind=files.CLIP)
    storage.save(files.clip_storage.path_for(mine.account_id, mine.pk, files.CLIP), io.BytesIO(stolen))
    assert data  # B's clip is fine under B

    assert run(mine) == RecordingStatus.FAILED
    assert fetch(mine).failure_reason == processing.UNREADABLE


def test_it_applies_each_cameras_motion_thresholds(world: World):
    """Faint motion: found at high sensitivity, not at low; a large minimum area hides strong motion."""
    with account_scope(world.a.account.pk):
        quiet, _ = camera_create(actor=world.a.memberships["owner"], name="Quiet porch", kind=CameraKind.PUSH)
        CameraRecordingSettings.objects.filter(camera_id=world.a.cameras[0].pk).update(motion_sensitivity=1.0)
        CameraRecordingSettings.objects.filter(camera_id=quiet.pk).update(motion_sensitivity=0.0)
    faint = clip(contrast=0.2)
    keen, dull = uploaded(world.a.cameras[0], faint), uploaded(quiet, faint)
    assert run(keen) == run(dull) == RecordingStatus.READY
    assert (fetch(keen).has_motion, len(events(keen))) == (True, 1)
    assert (fetch(dull).has_motion, events(dull)) == (False, [])

    with account_scope(world.a.account.pk):
        CameraRecordingSettings.objects.filter(camera_id=quiet.pk).update(
            motion_sensitivity=1.0, motion_min_area_percent=50
        )
    strong = uploaded(quiet, clip())
    assert run(strong) == RecordingStatus.READY
    assert not fetch(strong).has_motion


def test_it_replaces_a_stored_object_atomically(tmp_path):
    """replace_encrypted: the new bytes under the same name, no temporary file left; refused where not atomic."""
    account, obj, key = uuid.uuid4(), uuid.uuid4(), bytes(range(32))
    storage = ClipStorage(FileSystemStorage(location=tmp_path), chunk_size=64)
    ids: dict[str, Any] = {"account_id": account, "object_id": obj, "kind": "clips", "data_key": key}
    storage.write_encrypted(**ids, source=io.BytesIO(b"old" * 100))
    info = replace_encrypted(storage, **ids, source=io.BytesIO(b"new" * 50))
    assert info.plaintext_size == 150
    assert storage.read_range(**ids, start=0, end_inclusive=149) == b"new" * 50
    assert list((tmp_path / ".partial").iterdir()) == []

    neither_local_nor_overwriting = type("Bucket", (), {"file_overwrite": False})()
    other = ClipStorage(neither_local_nor_overwriting)
    with pytest.raises(StorageError):
        replace_encrypted(other, **ids, source=io.BytesIO(b"x"))


def test_it_decrypts_into_a_private_folder_under_the_processing_dir(world: World, monkeypatch, settings, tmp_path):
    """The plaintext goes under RECORDINGS_PROCESSING_DIR (made 0700), in an nvr-process-* folder (0700), then goes."""
    root = tmp_path / "processing"
    settings.RECORDINGS_PROCESSING_DIR = root
    seen: list[Path] = []
    real_prepare = prepare_isolated

    def spy(source: Path, *args, **kwargs):
        seen.append(Path(source))
        assert stat.S_IMODE(Path(source).parent.stat().st_mode) == 0o700
        return real_prepare(source, *args, **kwargs)

    monkeypatch.setattr(processing, "prepare_isolated", spy)
    assert run(uploaded(world.a.cameras[0], clip())) == RecordingStatus.READY
    (source,) = seen
    assert source.parent.parent == root
    assert source.parent.name.startswith("nvr-process-")
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert list(root.iterdir()) == []


def folder(root: Path, name: str, *, hours_ago: float) -> Path:
    """A processing folder with a plaintext clip in it, last touched that many hours ago."""
    path = root / name
    path.mkdir(parents=True)
    (path / "clip.mp4").write_bytes(b"plaintext")
    then = time.time() - hours_ago * 3600
    for item in (path / "clip.mp4", path):
        os.utime(item, (then, then))
    return path


def test_it_removes_folders_a_killed_worker_left_when_a_worker_starts(settings, tmp_path):
    """worker_ready: nvr-process-* folders older than the hard time limit go; young ones and others stay."""
    settings.RECORDINGS_PROCESSING_DIR = tmp_path
    limit_h = django_settings.RECORDINGS_PROCESS_TIME_LIMIT_S / 3600
    stale = folder(tmp_path, "nvr-process-killed", hours_ago=limit_h + 1)
    young = folder(tmp_path, "nvr-process-running", hours_ago=limit_h / 2)
    other = folder(tmp_path, "not-ours", hours_ago=limit_h + 1)

    worker_ready.send(sender=None)

    assert not stale.exists()
    assert young.exists()
    assert other.exists()
    assert processing.remove_stale_folders() == 0


def test_it_strips_server_paths_from_a_failure_reason(world: World, monkeypatch):
    """A decoder's message naming the decrypted file (or any server path) is stored without the path."""

    def failing(source: Path, *args, **kwargs):
        raise VideoError(
            f"the clip could not be remuxed for playback (Invalid data found when processing input: '{source}'; "
            f'File "/srv/nvr/recordings/video/worker.py", line 3, at /var/tmp/x.mp4)'
        )

    monkeypatch.setattr(processing, "prepare_isolated", failing)
    recording = uploaded(world.a.cameras[0], clip())
    assert run(recording) == RecordingStatus.FAILED
    reason = fetch(recording).failure_reason
    assert reason.startswith("the clip could not be remuxed for playback (Invalid data found")
    assert "/" not in reason
    assert "nvr-process" not in reason
    assert reason.count("<file>") == 3


def test_it_keeps_reasons_without_paths_unchanged():
    """Slashes that are not paths (frames/s, and/or, 3/4) stay."""
    text = "the clip has no usable frame rate (0 frames/s) and/or 3/4 of it is gone"
    assert processing.readable_reason(text) == text
