"""Pull cameras record: the ingest worker reads an RTSP camera (GStreamer on 127.0.0.1)
and its files become clips, one after another without a gap, through drops, in one
process per camera at a time (recordings.recorder)."""

import asyncio
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import av
import pytest
from channels.db import database_sync_to_async

from accounts.tenancy import account_scope
from conftest import RTSP_PASSWORD, RTSP_USER, World
from devices.extensions import RecordPlan, pull_recorder
from devices.ingest.config import IngestConfig
from devices.ingest.worker import run_camera
from devices.models import CameraStatus
from devices.selectors import Watching
from devices.tests.test_ingest import add_pull_camera, status_is, until
from recordings.models import RecorderLease, Recording
from recordings.recorder.lease import lease_take
from recordings.recorder.pull import PullCameraRecorder
from recordings.tasks import process_recording
from tools.upload_testing import stored_clip

pytestmark = pytest.mark.django_db(transaction=True)

PLAN = RecordPlan(mode="continuous", seconds=2, pre_roll=0, post_roll=0, sensitivity=0.5, min_area_percent=0.2)


@pytest.fixture(autouse=True)
def _no_processing(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    enqueued: list[tuple[str, ...]] = []
    monkeypatch.setattr(process_recording, "delay", lambda *args: enqueued.append(args))
    return enqueued


def config(tmp_path: Path) -> IngestConfig:
    return IngestConfig(max_fps=5, backoff_base=0.2, backoff_max=0.5, report_every=0.5, segments_dir=str(tmp_path))


def clips_of(camera) -> list[Recording]:
    with account_scope(camera.account_id):
        return list(Recording.objects.filter(camera=camera).order_by("started_at"))


def pictures(camera, recording: Recording) -> int:
    data = stored_clip(camera.account_id, recording.pk)
    with av.open(__import__("io").BytesIO(data)) as container:
        count = sum(1 for _ in container.decode(video=0))
    return count


async def not_watched(camera_id, account_id) -> Watching:
    return Watching()


def worker(camera, url: str, tmp_path: Path, stop: asyncio.Event, holder: str = "") -> "asyncio.Task[None]":
    """One ingest worker's loop for ``camera``, recording it continuously in 2 s files."""
    return asyncio.create_task(
        run_camera(
            camera.pk,
            camera.account_id,
            url,
            config=config(tmp_path),
            stop=stop,
            watched=not_watched,
            recorder=QuickLease(),
            plan=PLAN,
            holder=holder,
        )
    )


class QuickLease(PullCameraRecorder):
    """A 3 s lease, so that a takeover happens within a test."""

    @property
    def lease_seconds(self) -> float:
        return 3.0


def test_the_recorder_is_registered_for_the_ingest_worker():
    assert isinstance(pull_recorder(), PullCameraRecorder)


def test_a_pull_camera_records_clips_that_follow_each_other_and_survive_a_drop(world: World, rtsp_server, tmp_path):
    url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)
    camera = add_pull_camera(world.a, "Drive", url)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = worker(camera, url, tmp_path, stop)
        await until(status_is(camera, CameraStatus.ONLINE), 15, "online")
        await asyncio.sleep(7)
        await asyncio.to_thread(rtsp_server.stop)  # the camera drops mid-file
        await until(status_is(camera, CameraStatus.ERROR), 15, "the error status")
        before_drop = await database_sync_to_async(clips_of)(camera)
        await asyncio.to_thread(rtsp_server.start)
        await until(status_is(camera, CameraStatus.ONLINE), 20, "online again")
        await asyncio.sleep(5)
        stop.set()
        await asyncio.wait_for(task, 15)
        assert len(before_drop) >= 3, before_drop

    asyncio.run(asyncio.wait_for(scenario(), 120))
    clips = clips_of(camera)
    assert len(clips) >= 5, clips
    gaps = [later.started_at - earlier.ended_at for earlier, later in pairwise(clips)]
    # Within one connection, none; one gap in all: the drop and the reconnection.
    assert sum(gap > timedelta(milliseconds=5) for gap in gaps) == 1, gaps
    assert all(gap >= timedelta(milliseconds=-5) for gap in gaps), gaps
    for clip in clips:
        assert clip.status == "uploaded"
        assert pictures(camera, clip) > 0  # each plays: the one cut by the drop and the last one too
    assert list(tmp_path.iterdir()) == []  # every file stored, then removed
    with account_scope(camera.account_id):
        assert not RecorderLease.objects.exists()  # released when it stopped


def test_one_process_records_a_camera_and_another_takes_over_once_its_lease_lapsed(world: World, rtsp_server, tmp_path):
    url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)
    camera = add_pull_camera(world.a, "Drive", url)
    with account_scope(camera.account_id):  # a worker on another host holds it, then dies
        assert lease_take(account_id=camera.account_id, camera_id=camera.pk, holder="dead host", seconds=3)

    async def scenario() -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        stop = asyncio.Event()
        workers = [worker(camera, url, tmp_path, stop, holder) for holder in ("worker one", "worker two")]
        await until(status_is(camera, CameraStatus.ONLINE), 20, "online under a new holder")
        took_over = loop.time() - started
        await asyncio.sleep(6)
        holders = await database_sync_to_async(lease_holders)(camera)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*workers), 20)
        return took_over, holders

    took_over, holders = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert took_over >= 2.5, "read while the dead host's lease still held"
    assert holders == 1
    clips = clips_of(camera)
    gaps = [later.started_at - earlier.ended_at for earlier, later in pairwise(clips)]
    assert len(clips) >= 2
    assert all(abs(gap) <= timedelta(milliseconds=5) for gap in gaps), "two recorders interleaved their files"


def lease_holders(camera) -> int:
    with account_scope(camera.account_id):
        return RecorderLease.objects.filter(camera_id=camera.pk).exclude(holder="dead host").count()
