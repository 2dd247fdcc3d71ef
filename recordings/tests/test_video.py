"""Clip processing without the database: probe, motion, poster, fast start, and hostile files in isolation.

Every clip is generated into a temporary folder by ``tools.synth``.
The functions at the top (``hog_memory``, ``oversleep``, ...) are not tests:
they are run *inside* the isolated worker through ``run_isolated(_hook=...)``
to make it misbehave on purpose.
"""

import ctypes
import os
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from recordings.video.faststart import ensure_faststart, moov_before_mdat, top_level_boxes
from recordings.video.isolate import run_isolated
from recordings.video.motion import Analysis, MotionSettings, analyse
from recordings.video.probe import MAX_HEIGHT, MAX_WIDTH, probe
from recordings.video.results import ClipInfo, MotionEvent, VideoError
from tools.synth import make_clip, make_huge_dimensions_copy, make_random_file, make_truncated_copy

HOOKS = "recordings.tests.test_video"
MOTION = [(1.0, 2.0), (3.5, 4.5)]


# --- run inside the isolated worker, never collected (no test_ prefix) ---------------


def hog_memory(path: str, settings: MotionSettings) -> Analysis:
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))


def oversleep(path: str, settings: MotionSettings) -> Analysis:
    time.sleep(600)
    raise AssertionError("unreachable")


def burn_cpu(path: str, settings: MotionSettings) -> Analysis:
    while True:
        pass


def segfault(path: str, settings: MotionSettings) -> Analysis:
    ctypes.string_at(0)
    raise AssertionError("unreachable")


def report_environment(path: str, settings: MotionSettings) -> Analysis:
    """The verdict travels in ``codec``: are the parent's secrets in this process's environment?"""
    leaked = "NVR_TEST_SECRET" in os.environ or "DJANGO_SETTINGS_MODULE" in os.environ
    restricted = "protocol_whitelist;file" in os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS", "")
    codec = f"leaked={leaked} restricted={restricted}"
    return Analysis(info=ClipInfo(duration_s=0.0, fps=1.0, width=1, height=1, codec=codec, frame_count=1))


# --- clips ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    paths = {
        name: folder / f"{name}.mp4"
        for name in ("moving", "static", "weak", "close", "wide", "end_index", "truncated", "truncated_faststart")
    }
    make_clip(paths["moving"], seconds=6, motion=MOTION)
    make_clip(paths["static"], seconds=4)
    make_clip(paths["weak"], seconds=4, motion=[(1.0, 3.0)], contrast=0.2)
    make_clip(paths["close"], seconds=5, motion=[(1.0, 2.0), (2.6, 3.6)])
    make_clip(paths["wide"], seconds=2, width=1280, height=720, motion=[(0.5, 1.5)])
    make_clip(paths["end_index"], seconds=4, motion=[(1.0, 2.0)], faststart=False)
    make_truncated_copy(paths["end_index"], paths["truncated"])
    make_truncated_copy(paths["moving"], paths["truncated_faststart"])
    return paths


def near(value: float, expected: float, tolerance: float = 0.5) -> bool:
    return abs(value - expected) <= tolerance


def assert_readable(error: VideoError) -> None:
    reason = error.reason
    assert reason, "no reason given"
    assert "\n" not in reason, reason
    assert "Traceback" not in reason, reason
    assert len(reason) < 300, reason


# --- probe ----------------------------------------------------------------------------


def test_it_probes_duration_fps_size_and_codec(tmp_path: Path) -> None:
    path = tmp_path / "four.mp4"
    make_clip(path, seconds=4, fps=15, width=640, height=360)

    info = probe(path)

    assert near(info.duration_s, 4.0, 0.1)
    assert near(info.fps, 15.0, 0.01)
    assert (info.width, info.height) == (640, 360)
    assert info.codec in {"h264", "avc1"}
    assert info.frame_count == 60


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("random", "could not be decoded"),
        ("truncated", "could not be decoded"),  # the index was at the end: cut off
        ("empty", "could not be decoded"),
        ("missing", "does not exist"),
    ],
)
def test_it_refuses_unreadable_files_with_a_reason(clips: dict[str, Path], tmp_path: Path, name: str, reason: str):
    path = {"truncated": clips["truncated"]}.get(name, tmp_path / f"{name}.mp4")
    if name == "random":
        make_random_file(path)
    elif name == "empty":
        path.write_bytes(b"")

    with pytest.raises(VideoError, match=reason) as caught:
        probe(path)
    assert_readable(caught.value)


def test_it_refuses_absurd_dimensions_from_the_header(clips: dict[str, Path], tmp_path: Path) -> None:
    huge = tmp_path / "huge.mp4"
    make_huge_dimensions_copy(clips["end_index"], huge, width=8192, height=8192)

    with pytest.raises(VideoError, match=rf"exceed the limit of {MAX_WIDTH}x{MAX_HEIGHT}"):
        probe(huge)
    with pytest.raises(VideoError, match=r"exceed the limit"):
        analyse(huge)


def test_it_rewrites_only_the_dimensions_of_the_header(clips: dict[str, Path], tmp_path: Path) -> None:
    # The same SPS rewriting with the real size (368 rows coded, 8 cropped) gives a clip that still plays.
    same = tmp_path / "same.mp4"
    make_huge_dimensions_copy(clips["end_index"], same, width=640, height=368)

    assert probe(same) == probe(clips["end_index"])
    assert analyse(same).frames_decoded == 60


# --- motion ---------------------------------------------------------------------------


def test_it_finds_motion_at_the_injected_intervals(clips: dict[str, Path]) -> None:
    analysis = analyse(clips["moving"], MotionSettings())

    assert len(analysis.events) == 2, analysis.events
    for event, (start, end) in zip(analysis.events, MOTION, strict=True):
        assert near(event.start_s, start), (event, start)
        assert near(event.end_s, end), (event, end)
        assert 0 < event.score <= 1
    assert analysis.clip_score == max(event.score for event in analysis.events) > 0


def test_it_finds_no_motion_in_a_static_clip(clips: dict[str, Path]) -> None:
    analysis = analyse(clips["static"], MotionSettings(sensitivity=1.0))

    assert analysis.events == []
    assert analysis.clip_score == 0.0
    assert analysis.poster_jpeg.startswith(b"\xff\xd8")  # the middle frame


def test_it_finds_weaker_motion_at_a_higher_sensitivity(clips: dict[str, Path]) -> None:
    assert analyse(clips["weak"], MotionSettings(sensitivity=0.3)).events == []

    events = analyse(clips["weak"], MotionSettings(sensitivity=0.9)).events

    assert len(events) == 1, events
    assert near(events[0].start_s, 1.0), events
    assert near(events[0].end_s, 3.0), events


def test_it_ignores_changes_smaller_than_the_minimum_area(clips: dict[str, Path]) -> None:
    assert analyse(clips["moving"], MotionSettings(min_area_fraction=0.5)).events == []


def test_it_merges_motion_closer_than_the_minimum_gap(clips: dict[str, Path]) -> None:
    merged = analyse(clips["close"], MotionSettings(min_event_gap_s=1.0)).events
    apart = analyse(clips["close"], MotionSettings(min_event_gap_s=0.2)).events

    assert len(merged) == 1, merged
    assert near(merged[0].start_s, 1.0), merged
    assert near(merged[0].end_s, 3.6), merged
    assert len(apart) == 2, apart


def test_it_converts_only_the_frames_it_analyses(clips: dict[str, Path]) -> None:
    analysis = analyse(clips["moving"], MotionSettings(analysis_fps=5))

    assert analysis.frames_decoded == analysis.info.frame_count == 90
    assert analysis.frames_analysed in {30, 31}  # 6 s at 5 frames/s, of 15


def test_it_makes_a_jpeg_poster_at_most_640_wide(clips: dict[str, Path]) -> None:
    for name, width in (("wide", 640), ("moving", 640), ("static", 640)):
        poster = analyse(clips[name]).poster_jpeg
        assert poster.startswith(b"\xff\xd8")  # SOI
        assert poster.endswith(b"\xff\xd9")  # EOI
        image = cv2.imdecode(np.frombuffer(poster, dtype=np.uint8), cv2.IMREAD_COLOR)
        assert image is not None, name
        assert image.shape[1] == width <= 640, (name, image.shape)


def test_it_takes_the_poster_where_the_motion_is(clips: dict[str, Path]) -> None:
    # The block starts at the left; the strongest motion frame shows it moved right.
    analysis = analyse(clips["moving"])
    poster = cv2.imdecode(np.frombuffer(analysis.poster_jpeg, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    assert poster is not None
    first = cv2.VideoCapture(str(clips["moving"])).read()[1]
    assert first is not None
    changed = np.abs(poster.astype(int) - cv2.cvtColor(first, cv2.COLOR_BGR2GRAY).astype(int)) > 40
    assert changed.mean() > 0.01


def test_it_analyses_a_clip_cut_off_after_its_index_up_to_where_it_ends(clips: dict[str, Path]) -> None:
    """Its index lists 90 frames (6 s); the duration is what decodes, and the rest is a gap to the end."""
    analysis = analyse(clips["truncated_faststart"])
    assert 0 < analysis.frames_decoded < 90
    assert analysis.info.duration_s < 5.0
    assert analysis.info.duration_s == pytest.approx(analysis.frames_decoded / 15, abs=0.15)
    (gap,) = analysis.gaps
    assert gap.start_s == pytest.approx(analysis.info.duration_s, abs=0.01)
    assert gap.end_s == pytest.approx(6.0, abs=0.01)


def test_it_validates_settings() -> None:
    with pytest.raises(ValueError, match="sensitivity"):
        MotionSettings(sensitivity=1.5)
    with pytest.raises(ValueError, match="analysis_fps"):
        MotionSettings(analysis_fps=0)
    assert MotionSettings(sensitivity=1.0).pixel_threshold < MotionSettings(sensitivity=0.0).pixel_threshold


def test_it_round_trips_an_analysis_through_json_and_rejects_nonsense(clips: dict[str, Path]) -> None:
    analysis = analyse(clips["moving"])
    assert Analysis.from_json(analysis.to_json()) == analysis

    for field, value in (("clip_score", 2.0), ("clip_score", "1"), ("frames_decoded", 1.5), ("events", "x")):
        with pytest.raises(ValueError):  # noqa: PT011 - any validation message will do
            Analysis.from_json({**analysis.to_json(), field: value})
    assert MotionEvent(0, 1, 0.5) == MotionEvent(0.0, 1.0, 0.5)


# --- fast start -------------------------------------------------------------------------


def packets(path: Path) -> tuple[list[int], list[int | None], bytes | None]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        extradata = stream.codec_context.extradata
        sizes, times = [], []
        for packet in container.demux(stream):
            if packet.dts is not None:
                sizes.append(packet.size)
                times.append(packet.pts)
    return sizes, times, extradata


def test_it_writes_the_index_at_the_end_without_faststart(clips: dict[str, Path]) -> None:
    kinds = [box.kind for box in top_level_boxes(clips["end_index"])]

    assert kinds.index("mdat") < kinds.index("moov")
    assert not moov_before_mdat(clips["end_index"])
    assert moov_before_mdat(clips["moving"])


def test_it_moves_the_index_to_the_front_without_reencoding(clips: dict[str, Path], tmp_path: Path) -> None:
    source, fixed = clips["end_index"], tmp_path / "fixed.mp4"

    assert ensure_faststart(source, fixed) is True

    kinds = [box.kind for box in top_level_boxes(fixed)]
    assert kinds.index("moov") < kinds.index("mdat")
    assert packets(fixed) == packets(source)  # same packets, same timestamps, same SPS/PPS: copied, not re-encoded
    before, after = probe(source), probe(fixed)
    assert after == before
    assert after.frame_count == 60
    capture = cv2.VideoCapture(str(fixed))
    assert sum(1 for _ in iter(lambda: capture.read()[0], False)) == 60
    assert analyse(fixed).events == analyse(source).events


def test_it_leaves_a_clip_that_already_starts_with_its_index(clips: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "untouched.mp4"

    assert ensure_faststart(clips["moving"], target) is False
    assert not target.exists()


def test_it_refuses_to_remux_what_is_not_an_mp4(tmp_path: Path) -> None:
    noise, target = tmp_path / "noise.mp4", tmp_path / "out.mp4"
    make_random_file(noise)

    broken = r"^the MP4 file is (damaged: its structure is broken|incomplete: it has no index)$"
    with pytest.raises(VideoError, match=broken):
        ensure_faststart(noise, target)
    assert not target.exists()
    assert not list(tmp_path.glob("*.partial"))


# --- isolation ------------------------------------------------------------------------


def still_serving(clips: dict[str, Path]) -> None:
    """The parent is alive and the next household's clip is analysed normally."""
    analysis = run_isolated(clips["moving"], timeout_s=30)
    assert len(analysis.events) == 2
    assert analysis.poster_jpeg.startswith(b"\xff\xd8")


def test_it_analyses_a_good_clip_in_isolation_like_in_process(clips: dict[str, Path]) -> None:
    assert run_isolated(clips["moving"], MotionSettings(), timeout_s=30) == analyse(clips["moving"])


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        ("truncated", r"^the clip could not be decoded"),
        ("random", r"^the clip could not be decoded"),
        ("huge", r"dimensions 8192x8\d\d\d exceed the limit"),
        ("absurd", r"^the clip could not be decoded"),  # 20000x20000: FFmpeg itself refuses the header
        ("playlist", r"^the clip could not be decoded"),  # an HLS playlist named .mp4 must not be followed
    ],
)
def test_it_fails_hostile_files_with_a_readable_reason(
    clips: dict[str, Path], tmp_path: Path, hostile: str, reason: str
) -> None:
    path = clips.get(hostile, tmp_path / f"{hostile}.mp4")
    if hostile == "random":
        make_random_file(path)
    elif hostile == "huge":
        make_huge_dimensions_copy(clips["end_index"], path, width=8192, height=8192)
    elif hostile == "absurd":
        make_huge_dimensions_copy(clips["end_index"], path, width=20000, height=20000)
    elif hostile == "playlist":
        path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nfile://{clips['moving']}\n#EXT-X-ENDLIST\n")

    started = time.monotonic()
    with pytest.raises(VideoError, match=reason) as caught:
        run_isolated(path, timeout_s=20)

    assert time.monotonic() - started < 20
    assert caught.value.kind == "invalid"
    assert_readable(caught.value)
    still_serving(clips)


@pytest.mark.parametrize(
    ("hook", "limits", "kind", "reason"),
    [
        ("hog_memory", {"memory_mb": 700}, "memory", r"^the clip needs more memory than allowed \(700 MB\)$"),
        ("oversleep", {"timeout_s": 2}, "timeout", r"^analysis took longer than 2 s$"),
        ("burn_cpu", {"cpu_s": 1, "timeout_s": 20}, "timeout", r"^analysis used more than 1 s of CPU time$"),
        ("segfault", {}, "crash", r"^the clip could not be decoded: the decoder crashed on it$"),
    ],
)
def test_it_turns_a_misbehaving_child_into_a_failure(
    clips: dict[str, Path], hook: str, limits: dict[str, float], kind: str, reason: str
) -> None:
    started = time.monotonic()
    with pytest.raises(VideoError, match=reason) as caught:
        run_isolated(clips["moving"], _hook=f"{HOOKS}:{hook}", **{"timeout_s": 20, **limits})  # type: ignore[arg-type]

    assert caught.value.kind == kind
    assert time.monotonic() - started < limits.get("timeout_s", 20) + 5
    still_serving(clips)


def test_it_keeps_the_parents_secrets_from_the_child(clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NVR_TEST_SECRET", "hunter2")

    analysis = run_isolated(clips["moving"], timeout_s=20, _hook=f"{HOOKS}:report_environment")

    assert analysis.info.codec == "leaked=False restricted=True"


def test_it_remuxes_and_probes_in_isolation_too(clips: dict[str, Path], tmp_path: Path) -> None:
    from recordings.video.isolate import prepare_isolated, probe_isolated

    assert probe_isolated(clips["moving"]) == probe(clips["moving"])
    assert prepare_isolated(clips["end_index"], tmp_path / "fast.mp4").remuxed is True
    assert moov_before_mdat(tmp_path / "fast.mp4")
    with pytest.raises(VideoError, match="could not be decoded"):
        probe_isolated(clips["truncated"])
