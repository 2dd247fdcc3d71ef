"""Retention and quota pruning (recordings.retention): oldest first, file and row together, per household."""

import io
import json
import logging
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy import account_scope
from conftest import World
from devices.services import camera_delete
from recordings import files, retention
from recordings.models import CameraRecordingSettings, Recording
from recordings.retention import GB, enforce_retention, format_bytes, storage_usage
from recordings.storage import ClipStorage
from recordings.tasks import enforce_retention as enforce_retention_task
from recordings.tests.factories import make_recording

pytestmark = pytest.mark.django_db


def ids(household) -> set:
    with account_scope(household.account.pk):
        return set(Recording.objects.values_list("pk", flat=True))


def has_files(recording: Recording) -> bool:
    return files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=files.CLIP)


def aged(household, *hours_ago: float) -> list[Recording]:
    """Recordings of the household's camera that started that many hours ago."""
    with account_scope(household.account.pk):
        return [
            make_recording(household.cameras[0], started_at=timezone.now() - timedelta(hours=hours))
            for hours in hours_ago
        ]


def set_quota(household, quota_bytes: int) -> None:
    with account_scope(household.account.pk):
        Account.objects.filter(pk=household.account.pk).update(storage_quota_bytes=quota_bytes)


def test_it_deletes_clips_past_their_cameras_retention_with_their_files(
    world: World, django_capture_on_commit_callbacks
):
    """A's camera keeps 1 day: its 2-day-old clip goes (row and files); B's (30 days) stays."""
    with account_scope(world.a.account.pk):
        CameraRecordingSettings.objects.filter(camera_id=world.a.cameras[0].pk).update(retention_days=1)
    (old_a,) = aged(world.a, 48)
    (old_b,) = aged(world.b, 48)
    before_b = ids(world.b)

    with django_capture_on_commit_callbacks(execute=True):
        report = enforce_retention(batch_size=1)

    assert ids(world.a) == {r.pk for r in world.a.recordings}
    assert not has_files(old_a)
    assert ids(world.b) == before_b
    assert has_files(old_b)
    assert (report.households, report.expired, report.over_quota) == (2, 1, 0)
    assert report.bytes_freed == old_a.stored_bytes > 0
    assert [p.account_id for p in report.pruned] == [str(world.a.account.pk)]


def test_it_prunes_the_oldest_clips_while_a_household_is_over_quota(world: World, django_capture_on_commit_callbacks):
    """Only as many of the oldest as needed go, in batches; the other household is untouched."""
    oldest = aged(world.a, 10, 9, 8)  # older than the fixture's two (now-5 min, now-1 h)
    with account_scope(world.a.account.pk):
        used = storage_usage(world.a.account.pk).used_bytes
    # Over by a little more than two clips: the three oldest must go.
    set_quota(world.a, used - oldest[0].stored_bytes - oldest[1].stored_bytes - 1)
    before_b = ids(world.b)

    with django_capture_on_commit_callbacks(execute=True):
        report = enforce_retention(batch_size=2)

    assert ids(world.a) == {r.pk for r in world.a.recordings}
    assert not any(has_files(r) for r in oldest)
    assert all(has_files(r) for r in world.a.recordings)
    assert (report.expired, report.over_quota) == (0, 3)
    assert report.bytes_freed == sum(r.stored_bytes for r in oldest)
    with account_scope(world.a.account.pk):
        usage = storage_usage(world.a.account.pk)
    assert usage.used_bytes <= usage.quota_bytes
    assert ids(world.b) == before_b


def test_it_reports_storage_used_against_the_quota(world: World):
    with account_scope(world.a.account.pk):
        usage = storage_usage(world.a.account.pk)
        expected = sum(Recording.objects.values_list("stored_bytes", flat=True))
    assert usage.used_bytes == expected > 0
    assert usage.quota_bytes == django_settings.NVR_DEFAULT_STORAGE_QUOTA_GB * GB
    assert usage.label == f"{format_bytes(expected)} of 20 GB"
    assert not usage.over_quota
    assert format_bytes(int(1.2 * GB)) == "1.2 GB"
    assert format_bytes(350 * 1024**2) == "350 MB"
    assert format_bytes(0) == "0 B"


def test_it_runs_as_a_beat_task_and_a_command_with_progress(world: World):
    """The beat schedule names the task; the command prints progress and one JSON object."""
    schedule = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"recordings.tasks.enforce_retention", "recordings.tasks.sweep_recordings"} <= schedule
    set_quota(world.b, 1)

    result = enforce_retention_task.apply().get()
    assert result["over_quota"] == 2
    assert ids(world.b) == set()

    set_quota(world.a, 1)
    out, err = io.StringIO(), io.StringIO()
    call_command("prune_recordings", "--json", stdout=out, stderr=err)
    report = json.loads(out.getvalue())
    assert (report["households"], report["over_quota"]) == (2, 2)
    assert "[1/2] household" in err.getvalue()
    assert "[2/2] household" in err.getvalue()
    assert ids(world.a) == set()


def deletion_fails_for(monkeypatch, *doomed: uuid.UUID) -> None:
    """Storage refuses to delete the files of these households or recordings (a permission problem)."""
    real_delete = ClipStorage.delete

    def delete(self, *, account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> None:
        if account_id in doomed or object_id in doomed:
            raise PermissionError(13, "Permission denied")
        real_delete(self, account_id=account_id, object_id=object_id, kind=kind)

    monkeypatch.setattr(ClipStorage, "delete", delete)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_pruning_other_households_when_a_file_deletion_fails(world: World, monkeypatch, caplog):
    """Batches really commit: A's files cannot be deleted (logged, the sweep retries); B's clips still go."""
    for household in (world.a, world.b):
        with account_scope(household.account.pk):
            CameraRecordingSettings.objects.filter(camera_id=household.cameras[0].pk).update(retention_days=1)
    (old_a,) = aged(world.a, 48)
    (old_b,) = aged(world.b, 48)
    deletion_fails_for(monkeypatch, world.a.account.pk)

    with caplog.at_level(logging.ERROR):
        report = enforce_retention(batch_size=1)

    assert (report.expired, report.failed) == (2, [])
    assert old_a.pk not in ids(world.a)
    assert has_files(old_a)  # left for the sweep
    assert str(old_a.pk) in caplog.text
    assert old_b.pk not in ids(world.b)
    assert not has_files(old_b)


def test_it_reports_a_household_that_failed_and_prunes_the_others(world: World, monkeypatch, caplog):
    """Whatever stops one household's pruning is logged and reported; the next household is still pruned."""
    set_quota(world.a, 1)
    set_quota(world.b, 1)
    real_prune = retention._prune_into

    def prune(result, account_id, **kwargs):
        if account_id == world.a.account.pk:
            raise OSError("storage unavailable")
        real_prune(result, account_id, **kwargs)

    monkeypatch.setattr(retention, "_prune_into", prune)
    with caplog.at_level(logging.ERROR):
        report = enforce_retention()

    assert report.failed == [str(world.a.account.pk)]
    assert str(world.a.account.pk) in caplog.text
    assert len(ids(world.a)) == 2
    assert ids(world.b) == set()
    assert report.over_quota == 2

    out = io.StringIO()
    call_command("prune_recordings", stdout=out, stderr=io.StringIO())
    assert f"Failed (logged; retried next run): {world.a.account.pk}" in out.getvalue()


def test_it_deletes_the_other_files_when_one_recordings_files_fail(
    world: World, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """A camera's deletion: the first clip's files refuse to go (logged); the other clip's files still go."""
    real_delete = ClipStorage.delete
    refused: list[uuid.UUID] = []

    def delete(self, *, account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> None:
        if not refused or object_id == refused[0]:
            refused[:1] = [object_id]
            raise PermissionError(13, "Permission denied")
        real_delete(self, account_id=account_id, object_id=object_id, kind=kind)

    monkeypatch.setattr(ClipStorage, "delete", delete)
    owner, camera = world.a.memberships["owner"], world.a.cameras[0]
    caplog.set_level(logging.ERROR)
    with django_capture_on_commit_callbacks(execute=True), account_scope(camera.account_id):
        camera_delete(actor=owner, camera=camera)

    (kept,) = [r for r in world.a.recordings if r.pk in refused]
    (gone,) = [r for r in world.a.recordings if r.pk not in refused]
    assert str(kept.pk) in caplog.text
    assert has_files(kept)
    assert not has_files(gone)
