"""The sweep (recordings.sweep): real orphans both ways, reported, then repaired; a dry run changes nothing."""

import io
import json
import logging
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from accounts.tenancy import account_scope
from conftest import World
from recordings import files, tasks
from recordings.models import Recording, Upload
from recordings.storage import generate_data_key
from recordings.sweep import sweep
from recordings.tasks import sweep_recordings

pytestmark = pytest.mark.django_db

HOURS_AGO = 2


@pytest.fixture(autouse=True)
def own_storage(settings, tmp_path) -> Path:
    """A storage folder of this test's own: the sweep walks all of it."""
    location = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "base_url": None},
        },
    }
    return location


def storage_path(name: str) -> Path:
    return Path(files.clip_storage.storage.path(name))


def age(path: Path, hours: float = HOURS_AGO) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def stray_clip(account_id: uuid.UUID, recording_id: uuid.UUID | None = None, *, old: bool = True) -> str:
    """An encrypted clip under the household's prefix that no recording owns."""
    recording_id = recording_id or uuid.uuid4()
    files.clip_storage.write_encrypted(
        account_id=account_id,
        object_id=recording_id,
        kind=files.CLIP,
        data_key=generate_data_key(),
        source=io.BytesIO(b"not a recording" * 10),
    )
    name = files.clip_storage.path_for(account_id, recording_id, files.CLIP)
    if old:
        age(storage_path(name))
    return name


def exists(name: str) -> bool:
    return files.clip_storage.storage.exists(name)


def test_it_finds_and_deletes_files_without_rows(world: World):
    """Old orphans go (also a household's file misplaced under another, and a deleted household's);
    young files, an upload's in progress, unexpected names and every real recording's files stay."""
    a = world.a.account.pk
    orphan = stray_clip(a)
    young = stray_clip(a, old=False)
    ghost = stray_clip(uuid.uuid4())
    misplaced = stray_clip(a, world.b.recordings[0].pk)  # B's recording id under A's prefix
    in_progress = uuid.uuid4()
    with account_scope(a):
        Upload.objects.create(
            account_id=a,
            camera=world.a.cameras[0],
            recording_id=in_progress,
            length=10,
            sha256="0" * 64,
            started_at=timezone.now(),
            ended_at=timezone.now(),
            expires_at=timezone.now() + timedelta(hours=1),
        )
    uploading = stray_clip(a, in_progress)
    unexpected = f"accounts/{a.hex}/clips/ab/notes.txt"
    files.clip_storage.storage.save(unexpected, ContentFile(b"hello"))
    age(storage_path(unexpected))
    doomed = sorted([orphan, ghost, misplaced])
    kept = [young, uploading, unexpected]

    dry = sweep(dry_run=True)
    assert (dry.orphan_files, dry.rows_without_clip, dry.missing_thumbnails) == (3, 0, 0)
    assert sorted(dry.orphan_file_names) == doomed
    assert dry.orphan_bytes == sum(storage_path(name).stat().st_size for name in doomed)
    assert dry.unexpected_file_names == [unexpected]
    assert all(exists(name) for name in doomed + kept)

    report = sweep()
    assert sorted(report.orphan_file_names) == doomed
    assert not any(exists(name) for name in doomed)
    assert all(exists(name) for name in kept)
    for recording in world.a.recordings + world.b.recordings:
        assert files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=files.CLIP)
    assert sweep().orphan_files == 0


def test_it_finds_and_repairs_rows_without_files(world: World, django_capture_on_commit_callbacks):
    """A row whose clip is gone is deleted (with its thumbnail); a ready row without its thumbnail says so."""
    lost, thumbless = world.a.recordings[0], world.b.recordings[0]
    files.clip_storage.delete(account_id=lost.account_id, object_id=lost.pk, kind=files.CLIP)
    files.clip_storage.delete(account_id=thumbless.account_id, object_id=thumbless.pk, kind=files.THUMBNAIL)

    dry = sweep(dry_run=True)
    assert (dry.orphan_files, dry.rows_without_clip, dry.missing_thumbnails) == (0, 1, 1)
    assert (dry.rows_without_clip_ids, dry.missing_thumbnail_ids) == ([str(lost.pk)], [str(thumbless.pk)])
    with account_scope(lost.account_id):
        assert Recording.objects.filter(pk=lost.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        report = sweep()
    assert (report.rows_without_clip, report.missing_thumbnails) == (1, 1)
    with account_scope(lost.account_id):
        assert not Recording.objects.filter(pk=lost.pk).exists()
        assert Recording.objects.filter(pk=world.a.recordings[1].pk).exists()
    assert not files.clip_storage.exists(account_id=lost.account_id, object_id=lost.pk, kind=files.THUMBNAIL)
    with account_scope(thumbless.account_id):
        assert Recording.objects.get(pk=thumbless.pk).has_thumbnail is False
    again = sweep()
    assert (again.rows_without_clip, again.missing_thumbnails, again.orphan_files) == (0, 0, 0)


def test_it_runs_as_a_command_and_a_beat_task_and_removes_stale_partials(world: World, own_storage: Path):
    """--dry-run --json reports; the task repairs and removes an old partial upload nobody owns."""
    orphan = stray_clip(world.a.account.pk)
    partial = own_storage / ".partial" / f"upload-{world.a.account.pk.hex}-{uuid.uuid4().hex}.nvrc.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"sealed chunks")
    age(partial)

    out, err = io.StringIO(), io.StringIO()
    call_command("sweep_recordings", "--dry-run", "--json", stdout=out, stderr=err)
    report = json.loads(out.getvalue())
    assert (report["dry_run"], report["orphan_files"], report["stale_partials"]) == (True, 1, None)
    assert "[1/2] household" in err.getvalue()
    assert exists(orphan)
    assert partial.exists()

    text = io.StringIO()
    call_command("sweep_recordings", "--dry-run", stdout=text, stderr=io.StringIO())
    assert "files without a recording: 1" in text.getvalue()
    assert orphan in text.getvalue()

    result = sweep_recordings.apply().get()
    assert (result["orphan_files"], result["stale_partials"], result["expired_uploads"]) == (1, 1, 0)
    assert not exists(orphan)
    assert not partial.exists()


def test_it_enqueues_again_a_recording_stuck_before_processing(world: World, monkeypatch):
    """A clip still PROCESSING a day after its upload (its task was lost) is processed again; a new one is not."""
    stuck, fresh = world.a.recordings[1], world.b.recordings[1]
    with account_scope(stuck.account_id):
        Recording.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(days=1))
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(tasks.process_recording, "delay", lambda *args: calls.append(args))

    assert sweep(dry_run=True).requeued_ids == [str(stuck.pk)]
    assert calls == []
    assert sweep().requeued == 1
    assert calls == [(str(stuck.account_id), str(stuck.pk))]
    assert str(fresh.pk) not in {pk for _account, pk in calls}


def test_it_sweeps_the_other_households_when_one_fails(world: World, monkeypatch, caplog):
    """A's folder cannot be listed (a permission problem): logged and reported; B's orphan is still deleted."""
    a, b = world.a.account.pk, world.b.account.pk
    orphan_a, orphan_b = stray_clip(a), stray_clip(b)
    storage = files.clip_storage.storage
    real_listdir = storage.listdir

    def listdir(path: str):
        if a.hex in path:
            raise PermissionError(13, "Permission denied", path)
        return real_listdir(path)

    monkeypatch.setattr(storage, "listdir", listdir)
    with caplog.at_level(logging.ERROR):
        report = sweep()

    assert report.failed_households == [a.hex]
    assert any(a.hex in note for note in report.notes)
    assert a.hex in caplog.text
    assert exists(orphan_a)
    assert not exists(orphan_b)
    assert report.orphan_file_names == [orphan_b]


def test_it_removes_processing_folders_a_killed_worker_left(world: World, settings, tmp_path):
    """A killed worker's decrypted clip goes once older than the task's hard time limit; a dry run keeps it."""
    settings.RECORDINGS_PROCESSING_DIR = tmp_path
    stale, young = tmp_path / "nvr-process-killed", tmp_path / "nvr-process-running"
    for folder in (stale, young):
        folder.mkdir()
        (folder / "clip.mp4").write_bytes(b"plaintext")
    hours = (django_settings.RECORDINGS_PROCESS_TIME_LIMIT_S + 3600) / 3600
    age(stale / "clip.mp4", hours)
    age(stale, hours)

    assert sweep(dry_run=True).stale_processing_folders is None
    assert stale.exists()
    assert sweep().stale_processing_folders == 1
    assert not stale.exists()
    assert young.exists()


def test_it_expires_uploads_hourly(world: World, own_storage: Path):
    """Beat runs the hourly cleanup: an upload past its 24 h expiry goes with its partial file."""
    entries = [
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "recordings.tasks.hourly_cleanup"
    ]
    assert [e["schedule"] for e in entries] == [3600.0]
    a = world.a.account.pk
    with account_scope(a):
        expired = Upload.objects.create(
            account_id=a,
            camera=world.a.cameras[0],
            recording_id=uuid.uuid4(),
            length=10,
            sha256="0" * 64,
            started_at=timezone.now(),
            ended_at=timezone.now(),
            expires_at=timezone.now() - timedelta(minutes=1),
        )
    partial = own_storage / ".partial" / f"upload-{a.hex}-{expired.pk.hex}.nvrc.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"sealed chunks")

    assert tasks.hourly_cleanup.apply().get() == {"expired_uploads": 1, "stale_processing_folders": 0}
    with account_scope(a):
        assert not Upload.objects.filter(pk=expired.pk).exists()
    assert not partial.exists()
