"""A recorded segment becomes a clip like an uploaded one (recordings.recorder.store)."""

from datetime import timedelta
from pathlib import Path

import av
import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy import account_scope
from conftest import World
from devices.ingest.segments import Segment, SegmentWriter
from recordings.models import Recording, RecordingStatus
from recordings.recorder.store import segment_store
from recordings.tasks import process_recording
from tools.synth import make_clip
from tools.upload_testing import clip_files, stored_clip

pytestmark = pytest.mark.django_db


def a_segment(tmp_path: Path) -> Segment:
    source = tmp_path / "camera.mp4"
    make_clip(source, seconds=3, fps=15, width=160, height=96, motion=[(1, 2)])
    closed: list[Segment] = []
    with av.open(str(source)) as container:
        writer = SegmentWriter(container.streams.video[0], tmp_path, seconds=60, on_closed=closed.append)
        for packet in container.demux(video=0):
            writer.add(packet)
        writer.close()
    return closed[0]


def test_a_segment_is_stored_encrypted_and_processed_like_an_upload(
    world: World, tmp_path: Path, monkeypatch, django_capture_on_commit_callbacks
):
    segment = a_segment(tmp_path)
    camera = world.a.cameras[0]
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(process_recording, "delay", lambda *args: enqueued.append(args))
    ended = timezone.now()
    with django_capture_on_commit_callbacks(execute=True), account_scope(camera.account_id):
        recording = segment_store(
            camera=camera, path=segment.path, started_at=ended - timedelta(seconds=segment.duration), ended_at=ended
        )
    assert enqueued == [(str(camera.account_id), str(recording.pk))]
    assert stored_clip(camera.account_id, recording.pk) == segment.path.read_bytes()
    assert recording.status == RecordingStatus.UPLOADED
    assert process_recording.apply(args=enqueued[0]).get() == RecordingStatus.READY
    with account_scope(camera.account_id):
        ready = Recording.objects.get(pk=recording.pk)
    assert ready.duration_s == pytest.approx(3.0, abs=0.1)
    assert ready.has_motion


def test_a_segment_whose_row_fails_leaves_no_file(world: World, tmp_path: Path, monkeypatch):
    segment = a_segment(tmp_path)
    camera = world.a.cameras[0]

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("recordings.recorder.store.recording_create", broken)
    before = clip_files(camera.account_id)
    with account_scope(camera.account_id), pytest.raises(RuntimeError):
        segment_store(camera=camera, path=segment.path, started_at=timezone.now(), ended_at=timezone.now())
    assert clip_files(camera.account_id) == before


def test_a_recorded_clip_makes_room_within_the_quota_like_an_upload(world: World, tmp_path: Path):
    segment = a_segment(tmp_path)
    camera = world.a.cameras[0]
    with account_scope(camera.account_id):
        older = set(Recording.objects.values_list("pk", flat=True))
        Account.objects.filter(pk=camera.account_id).update(storage_quota_bytes=segment.path.stat().st_size * 2)
        recording = segment_store(camera=camera, path=segment.path, started_at=timezone.now(), ended_at=timezone.now())
        kept = set(Recording.objects.values_list("pk", flat=True))
    assert older
    assert kept == {recording.pk}  # the older clips made room; the new one stays
