"""The reader's child records: files cut from the camera's stream, without a gap, closed
cleanly when the parent stops it (GStreamer's RTSP server on 127.0.0.1)."""

import asyncio
from itertools import pairwise
from pathlib import Path

import av
import pytest

from conftest import RTSP_PASSWORD, RTSP_USER
from devices.addresses import check_address
from devices.ingest.reader import Outcome, ReaderLimits, SegmentClosed, StreamReader
from devices.ingest.reader_child import RecordJob
from devices.tests.test_reader import CONFIG, run
from tools.rtsp_testing import RtspServer
from tools.synth import make_clip


def record_job(folder: Path, *, seconds: float = 2, mode: str = "continuous") -> RecordJob:
    return {
        "folder": str(folder),
        "seconds": seconds,
        "mode": mode,
        "pre_roll": 1.0,
        "post_roll": 1.0,
        "sensitivity": 0.5,
        "min_area_percent": 0.2,
    }


before_stop: list[SegmentClosed] = []


def pictures_in(path: Path) -> int:
    with av.open(str(path)) as container:
        count = sum(1 for _ in container.decode(video=0))
    return count


async def record_for(url: str, job: RecordJob, seconds: float) -> tuple[list[SegmentClosed], Outcome | None]:
    """Read ``seconds``, then stop the reader as the worker does, reading to its end.
    ``before_stop`` gets the files closed before the stop."""
    reader = StreamReader(check_address(url), CONFIG, ReaderLimits(), record=job)
    await reader.start()
    closed: list[SegmentClosed] = []

    async def consume() -> None:
        async for message in reader.messages():
            if isinstance(message, SegmentClosed):
                closed.append(message)

    consuming = asyncio.ensure_future(consume())
    await asyncio.sleep(seconds)
    before_stop[:] = closed
    reader.finish()
    await asyncio.wait_for(consuming, 10)
    await reader.stop()
    return closed, reader.outcome


def test_files_follow_each_other_without_a_gap_and_the_last_closes_on_stop(rtsp_server, tmp_path: Path):
    url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)
    closed, outcome = run(record_for(url, record_job(tmp_path), 9))
    assert outcome == Outcome.STOPPED
    assert len(closed) >= 3, closed  # keyframes every 2 s: about one file per 2 s after the first keyframe
    for earlier, later in pairwise(closed):
        assert later.start == earlier.end, "a gap (or an overlap) between two files"
        assert later.wall_start - earlier.wall_start == pytest.approx(later.start - earlier.start, abs=1e-6)
    for segment in closed:
        path = tmp_path / segment.name
        assert pictures_in(path) == segment.pictures > 0  # each one plays, the last one included
        assert segment.end - segment.start > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [s.name for s in closed]


def test_on_motion_nothing_is_recorded_while_the_scene_is_still(rtsp_server, tmp_path: Path):
    """The test clip's scene never moves (make_clip without motion): no file at all."""
    url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)
    closed, _outcome = run(record_for(url, record_job(tmp_path, mode="motion"), 6))
    assert closed == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.rtsp
@pytest.mark.usefixtures("_rtsp_available")
def test_on_motion_one_file_covers_the_pre_roll_the_motion_and_the_post_roll(tmp_path_factory: pytest.TempPathFactory):
    """A scene still but for 5-6 s: one file, from a keyframe at least the pre-roll
    (2 s) before the motion to the post-roll (1 s) after it."""
    clip = tmp_path_factory.mktemp("motion") / "clip.mp4"
    make_clip(clip, seconds=12, fps=15, width=320, height=180, motion=[(5, 6)])
    folder = tmp_path_factory.mktemp("segments")
    job = record_job(folder, mode="motion", seconds=60) | {"pre_roll": 2.0, "post_roll": 1.0}
    with RtspServer(clip) as server:
        closed, _outcome = run(record_for(server.url(), job, 11))
    assert len(closed) == 1, closed
    segment = closed[0]
    # Keyframes every 2 s: the file starts 2 to 4 s before the motion; it ends a post-roll after
    # the motion (and the second the detector takes to see the block still), long before the stream.
    assert 4.0 <= segment.end - segment.start <= 7.5, segment
    assert segment in before_stop, "closed by the post-roll, not by the reader's stop"
    assert pictures_in(folder / segment.name) == segment.pictures
