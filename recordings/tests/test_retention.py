"""Retention and quota pruning (recordings.retention): oldest first, file and row together, per household."""

import io
import json
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy import account_scope
from conftest import World
from devices.models import Camera
from recordings import files
from recordings.models import Recording
from recordings.retention import GB, enforce_retention, format_bytes, storage_usage
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
        Camera.objects.filter(pk=world.a.cameras[0].pk).update(retention_days=1)
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
