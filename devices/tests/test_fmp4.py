"""H.264 access units to fragmented MP4: what FFmpeg reads back is what the camera sent."""

import io
import itertools

import av
import numpy as np
import pytest

from devices import h264, h265
from devices.fmp4 import TIMESCALE, Fragment, Fragmenter
from devices.tests.h264_streams import encode

Units = list[tuple[bytes, int, int, bool]]  # access unit, pts, dts, key


def as_file(fragments: list[Fragment]) -> list[av.VideoFrame]:
    """The fragments as one MP4 (init of the first, then each fragment), decoded by FFmpeg."""
    data = fragments[0].init + b"".join(fragment.data for fragment in fragments)
    container = av.open(io.BytesIO(data), "r")
    try:
        return list(container.decode(video=0))
    finally:
        container.close()


def through_matroska(codec: str, options: dict[str, str], *, count: int) -> tuple[Units, bytes]:
    """Pictures encoded into Matroska and demuxed again: length-prefixed packets and the
    decoder configuration record as extradata, as demuxers of Matroska or FLV give them."""
    source = io.BytesIO()
    with av.open(source, "w", format="matroska") as output:
        stream = output.add_stream(codec, rate=15, options=options)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for n in range(count):
            frame = av.VideoFrame.from_ndarray(np.full((96, 160, 3), n * 40, np.uint8), format="bgr24")
            output.mux(stream.encode(frame.reformat(format="yuv420p")))
        output.mux(stream.encode(None))
    source.seek(0)
    with av.open(source, "r") as container:
        video = container.streams.video[0]
        extradata = bytes(video.codec_context.extradata or b"")
        units = [(bytes(p), int(p.pts or 0), int(p.dts or 0), p.is_keyframe) for p in container.demux(video) if p.size]
    return units, extradata


def fragment_all(units: Units, fragmenter: Fragmenter) -> list[Fragment]:
    tick = TIMESCALE // 15
    out = [fragmenter.push(data, dts=dts * tick, pts=pts * tick, key=key) for data, pts, dts, key in units]
    return [fragment for fragment in out if fragment is not None]


def test_every_picture_comes_back_with_its_colour_size_and_time():
    units, _ = encode(count=12)
    fragments = fragment_all(units, Fragmenter())
    assert len(fragments) == 12
    assert [f.key for f in fragments] == [n % 6 == 0 for n in range(12)]
    assert all(f.init for f in fragments if f.key)
    assert not any(f.init for f in fragments if not f.key)
    assert {f.stream for f in fragments} == {fragments[0].stream}
    assert [f.seq for f in fragments] == list(range(1, 13))
    frames = as_file(fragments)
    assert len(frames) == 12
    assert (frames[0].width, frames[0].height) == (160, 96)
    assert [frame.pts for frame in frames] == [n * (TIMESCALE // 15) for n in range(12)]
    blue, green, red = frames[5].to_ndarray(format="bgr24")[48, 100]
    assert red > 180
    assert max(blue, green) < 40
    assert fragments[0].codec.startswith("avc1.42")  # baseline
    assert fragments[0].codec.encode() + b"\x00" in fragments[0].init  # the page reads it there


def test_pictures_before_the_first_keyframe_are_dropped():
    units, _ = encode(count=12)
    fragments = fragment_all(units[2:], Fragmenter())
    assert len(fragments) == 6  # from the second keyframe on
    assert fragments[0].key
    assert len(as_file(fragments)) == 6


def test_b_frames_keep_their_presentation_order():
    units, _ = encode(count=12, bframes=2, profile="main")
    assert any(pts != dts for _, pts, dts, _ in units)
    frames = as_file(fragment_all(units, Fragmenter()))
    shown = sorted(frame.pts for frame in frames)
    assert len(shown) == 12
    assert [later - earlier for earlier, later in itertools.pairwise(shown)] == [TIMESCALE // 15] * 11


def test_mp4_style_packets_with_an_avcc_record_are_read_too():
    """Demuxers of Matroska or FLV give length-prefixed packets and the parameter sets in
    the extradata (an avcC record), not in the stream."""
    units, extradata = through_matroska("libx264", {"preset": "ultrafast", "bf": "0"}, count=6)
    assert extradata[0] == 1
    assert not units[0][0].startswith(b"\x00\x00\x00\x01")
    frames = as_file(fragment_all(units, Fragmenter(extradata=extradata)))
    assert len(frames) == 6


def test_new_parameter_sets_start_a_new_stream_with_its_own_init():
    small, _ = encode(width=160, height=96, count=6)
    large, _ = encode(width=320, height=192, count=6)
    fragmenter = Fragmenter()
    fragments = fragment_all(small, fragmenter) + fragment_all(large, fragmenter)
    streams = [f.stream for f in fragments]
    assert len(set(streams)) == 2
    assert streams[5] != streams[6]
    assert fragments[6].key
    assert fragments[6].init != fragments[0].init
    assert (fragments[6].width, fragments[6].height) == (320, 192)
    assert (as_file(fragments[6:])[0].width, as_file(fragments[6:])[0].height) == (320, 192)


@pytest.mark.parametrize(
    ("width", "height", "profile"),
    [(1280, 720, "high"), (1920, 1080, "high"), (642, 362, "main"), (176, 144, "baseline")],
)
def test_the_sequence_parameter_set_gives_the_displayed_size(width, height, profile):
    units, _ = encode(width=width, height=height, count=1, profile=profile)
    [sps] = [nal for nal in h264.split_annexb(units[0][0]) if h264.nal_type(nal) == h264.SPS]
    info = h264.parse_sps(sps)
    assert (info.width, info.height) == (width, height)
    assert info.profile == {"baseline": 66, "main": 77, "high": 100}[profile]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xff\xd8\xff\xe0 not h264", "start code"),
        (b"junk before\x00\x00\x00\x01\x65\x88", "start code"),
        (b"\x00\x00\x00\x01" + b"\x00\x00\x01\x09" * 600, "NAL units"),
    ],
)
def test_what_is_not_annex_b_is_refused(data, says):
    with pytest.raises(h264.BadStream, match=says):
        Fragmenter().push(data, dts=0)


def test_a_length_that_runs_past_the_packet_is_refused():
    with pytest.raises(h264.BadStream, match="runs past"):
        h264.split_length_prefixed(b"\x00\x00\x10\x00\x65\x88", 4)


def test_an_impossible_sequence_parameter_set_is_refused():
    units, _ = encode(count=1)
    [sps] = [nal for nal in h264.split_annexb(units[0][0]) if h264.nal_type(nal) == h264.SPS]
    with pytest.raises(h264.BadStream):
        h264.parse_sps(sps[:5])  # cut off
    with pytest.raises(h264.BadStream):
        h264.parse_sps(bytes([0x67, 66, 0, 30]) + b"\x00" * 8)  # an Exp-Golomb number with no end


def test_decode_times_always_increase():
    """A push camera's pictures are stamped on arrival: a burst can bring two at once."""
    units, _ = encode(count=4)
    fragmenter = Fragmenter()
    fragments = [
        fragmenter.push(data, dts=dts) for data, dts in zip([u[0] for u in units], [0, 6000, 6000, 3000], strict=True)
    ]
    frames = as_file([f for f in fragments if f is not None])
    times = [int(frame.dts or 0) for frame in frames]
    assert times == sorted(set(times))
    assert len(times) == 4


# --- H.265 -------------------------------------------------------------------------------------


def test_h265_pictures_come_back_with_their_colour_and_size():
    units, _ = encode(width=320, height=184, count=10, keyint=5, hevc=True)
    fragments = fragment_all(units, Fragmenter(codec="hevc"))
    assert len(fragments) == 10
    assert [f.key for f in fragments] == [n % 5 == 0 for n in range(10)]
    assert fragments[0].init[4:8] == b"ftyp"
    assert b"hvcC" in fragments[0].init
    assert fragments[0].codec == "hvc1.1.6.L60.90"  # Main, level 2
    assert b"hvc1.1.6.L60.90\x00" in fragments[0].init
    frames = as_file(fragments)
    assert len(frames) == 10
    assert (frames[0].width, frames[0].height) == (320, 184)  # 184: a conformance window crops 192
    blue, green, red = frames[3].to_ndarray(format="bgr24")[92, 200]
    assert red > 180
    assert max(blue, green) < 40


def test_h265_from_an_hvcc_record():
    units, extradata = through_matroska("libx265", {"preset": "ultrafast", "x265-params": "log-level=error"}, count=4)
    assert extradata[0] == 1
    assert len(as_file(fragment_all(units, Fragmenter(codec="hevc", extradata=extradata)))) == 4


def test_the_h265_codec_string_follows_the_mp4_rules():
    info = h265.SequenceInfo(
        profile_space=0,
        tier=1,
        profile=2,
        compatibility=0x20000000,  # flag 2 only: reversed, 4
        constraints=bytes([0xB0, 0, 0, 0, 0, 0]),
        level=120,
        chroma_format=1,
        luma_bit_depth=10,
        chroma_bit_depth=10,
        temporal_layers=1,
        temporal_id_nested=1,
        width=3840,
        height=2160,
    )
    assert info.codec == "hvc1.2.4.H120.b0"


def test_a_flood_of_empty_start_codes_is_refused_at_once():
    flood = b"\x00\x00\x00\x01\x65\x88" + b"\x00\x00\x01" * 300_000  # ~1 MB, within a frame's limit
    with pytest.raises(h264.BadStream, match="NAL units"):
        h264.split_annexb(flood)


def test_a_bit_depth_beyond_h264s_is_refused():
    units, _ = encode(count=1, profile="high")
    [sps] = [nal for nal in h264.split_annexb(units[0][0]) if h264.nal_type(nal) == h264.SPS]
    info = h264.parse_sps(sps)
    assert info.luma_bit_depth == 8
    # profile 100, constraints 0, level 30, sps id 0 (1), chroma 1 (010), luma depth - 8 = 300 (ue).
    bits = "1" + "010" + "0" * 8 + "1" + format(301, "b")[1:] + "1" * 43  # 64 bits
    payload = int(bits, 2).to_bytes(len(bits) // 8, "big")
    with pytest.raises(h264.BadStream, match="bit depth"):
        h264.parse_sps(bytes([0x67, 100, 0, 30]) + payload)


def test_a_cameras_clock_jumping_keeps_the_viewers_timeline_going():
    units, _ = encode(count=6)
    tick = TIMESCALE // 15
    stamps = [0, tick, 2 * tick, 2 * tick - 5 * TIMESCALE, 3 * tick - 5 * TIMESCALE, 900 * TIMESCALE]
    fragmenter = Fragmenter()
    fragments = [fragmenter.push(data, dts=dts) for (data, *_), dts in zip(units, stamps, strict=True)]
    times = [int(frame.dts or 0) for frame in as_file([f for f in fragments if f is not None])]
    assert times == [n * tick for n in range(6)]  # a second back, then 15 minutes on: steady
