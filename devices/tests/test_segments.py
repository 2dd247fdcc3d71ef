"""Stream copy into MP4 files that follow each other without a gap (devices.ingest.segments)."""

import hashlib
from pathlib import Path

import av
import pytest

from devices.ingest.segments import MotionGate, Segment, SegmentWriter
from tools.synth import make_clip

FPS = 15


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """7 s at 15 fps, a keyframe every 2 s (as cameras encode)."""
    path = tmp_path_factory.mktemp("clip") / "camera.mp4"
    make_clip(path, seconds=7, fps=FPS, width=160, height=96)
    return path


def copy(clip: Path, folder: Path, *, seconds: float, skip: int = 0, stop_after: int | None = None) -> list[Segment]:
    closed: list[Segment] = []
    with av.open(str(clip)) as source:
        stream = source.streams.video[0]
        writer = SegmentWriter(stream, folder, seconds=seconds, on_closed=closed.append)
        for n, packet in enumerate(source.demux(stream)):
            if n < skip:
                continue
            if stop_after is not None and n >= stop_after:
                break
            writer.add(packet)
        writer.close()
    return closed


def payloads(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        found = [hashlib.sha256(bytes(p)).hexdigest() for p in container.demux(video=0) if p.size]
    return found


def decoded(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        times = [float(frame.time or 0) for frame in container.decode(video=0)]
    return times


def test_files_start_at_keyframes_follow_each_other_and_hold_the_camera_bytes(clip: Path, tmp_path: Path):
    segments = copy(clip, tmp_path, seconds=3)
    # Keyframes at 0, 2, 4 and 6 s: a file closes at the first one 3 s or more in.
    assert [(s.start, s.end, s.pictures, s.keyframes) for s in segments] == [
        (0.0, 4.0, 4 * FPS, 2),
        (4.0, 7.0, 3 * FPS, 2),
    ]
    assert segments[0].end == segments[1].start  # no gap: the next picture opens the next file
    # Stream copy: every packet is the camera's own, in order, none lost or re-encoded.
    assert [digest for s in segments for digest in payloads(s.path)] == payloads(clip)
    for segment in segments:
        times = decoded(segment.path)
        assert len(times) == segment.pictures
        assert times[0] == 0.0  # each file plays on its own, from its start
        assert times[-1] == pytest.approx(segment.duration - 1 / FPS)


def test_pictures_before_the_first_keyframe_are_left_out(clip: Path, tmp_path: Path):
    segments = copy(clip, tmp_path, seconds=10, skip=5)  # joined the stream mid-picture-group
    assert [(s.start, s.pictures) for s in segments] == [(2.0, 5 * FPS)]
    assert len(decoded(segments[0].path)) == 5 * FPS


def test_a_stream_that_stops_closes_a_playable_file(clip: Path, tmp_path: Path):
    segments = copy(clip, tmp_path, seconds=60, stop_after=40)  # the camera dropped at 2.67 s
    assert [(s.start, s.pictures) for s in segments] == [(0.0, 40)]
    assert len(decoded(segments[0].path)) == 40
    assert segments[0].end == pytest.approx(40 / FPS)


def test_on_motion_a_file_covers_the_pre_roll_before_and_the_post_roll_after(clip: Path, tmp_path: Path):
    """Motion from 4.0 to 4.6 s; keyframes every 2 s; 1.5 s before, 1 s after."""
    closed: list[Segment] = []
    with av.open(str(clip)) as source:
        stream = source.streams.video[0]
        writer = SegmentWriter(stream, tmp_path, seconds=60, on_closed=closed.append)
        gate = MotionGate(writer, pre_roll=1.5, post_roll=1.0)
        recording = []
        for packet in source.demux(stream):
            at = float((packet.pts or 0) * writer.time_base)
            gate.add(packet)
            if 4.0 <= at <= 4.6:
                gate.motion(at)  # as the child's motion detector would say it
            recording.append(gate.recording)
        gate.close()
    # The buffer starts at the keyframe 2 s in: the last one at least 1.5 s before 4.0.
    assert [(s.start, s.pictures) for s in closed] == [(2.0, round((5.6 + 1 / FPS - 2.0) * FPS))]
    assert closed[0].end == pytest.approx(4.6 + 1.0 + 1 / FPS, abs=1 / FPS)
    assert len(decoded(closed[0].path)) == closed[0].pictures
    assert not recording[-1]  # closed after the post-roll, not at the end of the stream


def test_nothing_is_written_when_nothing_moves(clip: Path, tmp_path: Path):
    closed: list[Segment] = []
    with av.open(str(clip)) as source:
        stream = source.streams.video[0]
        gate = MotionGate(
            SegmentWriter(stream, tmp_path, seconds=60, on_closed=closed.append),
            pre_roll=1.5,
            post_roll=1.0,
        )
        for packet in source.demux(stream):
            gate.add(packet)
        gate.close()
    assert closed == []
    assert list(tmp_path.iterdir()) == []
