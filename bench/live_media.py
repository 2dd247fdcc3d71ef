"""The pictures for ``live_fanout.py``: one street scene, pre-encoded as JPEG and as H.264.

``make_media`` renders ``tools.simulator.stream.Scene`` once per frame slot (the
overlay's clock derived from the slot, so a run is repeatable) and encodes every
picture twice before anything is measured: JPEG at ``quality`` (OpenCV, as the
simulated camera does) and H.264 with the simulated camera's encoder
(``tools.simulator.h264.H264Encoder``: libx264, no B-frames, SPS/PPS before every
IDR, a keyframe every ``keyframe_every`` s, an average ``bitrate``). The publisher
then only sends bytes.

An H.264 picture cannot carry a time stamp, so viewers recognise it by its slice
bytes: ``picture_key`` hashes an access unit's VCL NAL units (the coded slices).
The NVR sends them unchanged inside each fragment's ``mdat`` (length-prefixed;
``devices/fmp4.py`` drops only SPS, PPS and AUD), and the bare relay sends the
access units as they came, so the same key comes out of both (``mp4_pictures``,
``annexb_pictures``), whether a message holds one picture or several.
"""

import datetime
import fractions
import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av

from devices import h264
from tools.simulator.h264 import H264Encoder
from tools.simulator.stream import Scene, encode_jpeg

CLOCK = datetime.datetime(2026, 12, 1, 12, 0, 0)  # the overlay's time at slot 0: every run draws the same pictures
VCL = frozenset(range(1, 6))  # NAL unit types of coded slices (non-IDR ... IDR)


@dataclass
class Media:
    width: int
    height: int
    fps: float
    jpeg_quality: int
    keyframe_every: float
    bitrate_target: int
    jpegs: list[bytes]
    access_units: list[bytes]  # Annex B, one per picture, the first an IDR with its SPS and PPS
    keys: list[int] = field(default_factory=list)  # picture_key of each access unit
    index_of: dict[int, int] = field(default_factory=dict)  # picture_key -> index in access_units
    keyframes: list[bool] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.access_units) / self.fps

    @property
    def h264_bits_per_s(self) -> float:
        """The H.264 stream's own bitrate: its access units' bytes over the cycle's duration."""
        return sum(len(unit) for unit in self.access_units) * 8 / self.seconds

    @property
    def jpeg_bits_per_s(self) -> float:
        return sum(len(frame) for frame in self.jpegs) * 8 / self.seconds

    def summary(self) -> dict[str, object]:
        sizes = [len(frame) for frame in self.jpegs]
        return {
            "size": f"{self.width}x{self.height}",
            "fps": self.fps,
            "cycle_frames": len(self.access_units),
            "h264_kbit_s": round(self.h264_bits_per_s / 1000),
            "h264_target_kbit_s": self.bitrate_target // 1000,
            "h264_keyframe_every_s": self.keyframe_every,
            "h264_keyframe_kb_mean": round(
                sum(len(u) for u, k in zip(self.access_units, self.keyframes, strict=True) if k)
                / max(1, sum(self.keyframes))
                / 1000,
                1,
            ),
            "jpeg_quality": self.jpeg_quality,
            "jpeg_kb_mean": round(sum(sizes) / len(sizes) / 1000, 1),
            "jpeg_kbit_s": round(self.jpeg_bits_per_s / 1000),
        }


def vcl_key(nals: Iterable[bytes]) -> int:
    """The key of one picture: a hash of its coded slices (trailing zero bytes dropped, which
    Annex B splitting attributes to the next start code)."""
    return hash(b"".join(nal.rstrip(b"\x00") for nal in nals if nal and (nal[0] & 0x1F) in VCL))


def annexb_pictures(data: bytes) -> list[int]:
    """The picture keys of one or more Annex B access units back to back.

    A picture begins at its first non-VCL NAL unit (SPS, PPS, SEI, AUD) or at a slice
    whose ``first_mb_in_slice`` is 0 (the header's first bit is 1), after a slice."""
    pictures: list[list[bytes]] = []
    current: list[bytes] = []
    seen_slice = False
    for nal in h264.split_annexb(data):
        is_slice = (nal[0] & 0x1F) in VCL
        if seen_slice and (not is_slice or (len(nal) > 1 and nal[1] & 0x80)):
            pictures.append(current)
            current, seen_slice = [], False
        current.append(nal)
        seen_slice = seen_slice or is_slice
    if current:
        pictures.append(current)
    return [vcl_key(picture) for picture in pictures]


@dataclass
class Mp4Message:
    init: bool = False  # held an init segment (ftyp + moov)
    keys: list[int] = field(default_factory=list)  # one per mdat: each fragment is one picture
    sample_bytes: list[int] = field(default_factory=list)  # each mdat's payload size
    fragments: int = 0  # moof boxes
    bad: bool = False  # boxes that do not parse, or a moof without its mdat


def mp4_pictures(data: bytes) -> Mp4Message:
    """What one message of the NVR's MP4 live view holds: top-level boxes walked,
    each ``mdat`` split into its length-prefixed NAL units."""
    result = Mp4Message()
    position, size = 0, len(data)
    view = memoryview(data)
    pending_moof = False
    while position < size:
        if position + 8 > size:
            result.bad = True
            break
        (length,) = struct.unpack_from(">I", data, position)
        kind = bytes(view[position + 4 : position + 8])
        if length < 8 or position + length > size:
            result.bad = True
            break
        if kind == b"ftyp":
            result.init = True
        elif kind == b"moof":
            if pending_moof:
                result.bad = True
            pending_moof = True
            result.fragments += 1
        elif kind == b"mdat":
            if not pending_moof:
                result.bad = True
            pending_moof = False
            payload = bytes(view[position + 8 : position + length])
            try:
                result.keys.append(vcl_key(h264.split_length_prefixed(payload, 4)))
            except h264.BadStream:
                result.bad = True
            result.sample_bytes.append(len(payload))
        position += length
    if pending_moof:
        result.bad = True
    return result


def make_media(
    *,
    frames: int,
    fps: float,
    width: int = 1280,
    height: int = 720,
    jpeg_quality: int = 80,
    bitrate: int = 2_000_000,
    keyframe_every: float = 2.0,
) -> Media:
    """``frames`` pictures of the scene, as JPEGs and as H.264 access units."""
    scene = Scene(width, height, label="Bench")
    encoder = H264Encoder(width, height, fps=fps, bitrate=bitrate, keyframe_every=keyframe_every)
    jpegs: list[bytes] = []
    units: list[bytes] = []
    try:
        for slot in range(frames):
            t = slot / fps
            image = scene.render(t, now=CLOCK + datetime.timedelta(seconds=t))
            jpegs.append(encode_jpeg(image, jpeg_quality))
            units.append(encoder.encode(image))
    finally:
        encoder.close()
    media = Media(width, height, fps, jpeg_quality, keyframe_every, bitrate, jpegs, units)
    for index, unit in enumerate(units):
        [key] = annexb_pictures(unit)
        if key in media.index_of:
            raise RuntimeError(f"access units {media.index_of[key]} and {index} have the same slices")
        media.keys.append(key)
        media.index_of[key] = index
        media.keyframes.append(h264.IDR in [h264.nal_type(nal) for nal in h264.split_annexb(unit)])
    if not media.keyframes[0]:
        raise RuntimeError("the first access unit is not a keyframe")
    cycle_gop = round(keyframe_every * fps)
    if frames % cycle_gop:
        raise RuntimeError(f"{frames} frames is not a whole number of groups of {cycle_gop}: the loop would break one")
    return media


def clip_loops(cycle_seconds: float, seconds: float, warmup: float = 2.0, opening: float = 10.0) -> int:
    """How many times the pictures must repeat in a clip for a reader's window: each mode of
    ``live_readers`` plays it from its start, and GStreamer's MP4 demuxer does not loop."""
    return max(1, math.ceil((warmup + seconds + opening) / cycle_seconds))


def write_clip(units: Sequence[bytes], fps: float, width: int, height: int, path: Path) -> None:
    """The access units as an MP4 file (stream copy: the same bytes, length-prefixed by the muxer)."""
    nals = {h264.nal_type(nal): nal for nal in reversed(h264.split_annexb(units[0]))}
    sps, pps = nals[h264.SPS], nals[h264.PPS]
    rate = fractions.Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("h264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.extradata = b"\x00\x00\x00\x01" + sps + b"\x00\x00\x00\x01" + pps
        time_base = 1 / rate
        for index, unit in enumerate(units):
            packet = av.Packet(unit)
            packet.pts = packet.dts = index
            packet.duration = 1
            packet.time_base = time_base
            packet.is_keyframe = h264.IDR in [h264.nal_type(nal) for nal in h264.split_annexb(unit)]
            packet.stream = stream
            output.mux(packet)
