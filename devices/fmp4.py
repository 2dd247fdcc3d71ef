"""Fragmented MP4 for live H.264: an init segment per stream, then one fragment per picture.

Browsers play live video through Media Source Extensions from an init segment (``ftyp``
+ ``moov``: the codec and its parameter sets) followed by media fragments (``moof`` +
``mdat``). One fragment per picture, written the moment the picture arrives, adds no
delay; FFmpeg's MP4 muxer writes a fragment only when the next picture arrives (one
frame late), which is why the few boxes are written here. No transcoding: the camera's
bytes go into ``mdat`` as they came, only re-framed from start codes to lengths.

``Fragmenter`` turns a camera's access units into ``Fragment`` values: the same bytes
for every viewer, so the fan-out never copies per viewer.
"""

import struct
import uuid
from dataclasses import dataclass

from devices import h264

TIMESCALE = 90_000  # ticks a second, as RTP's H.264 clock
TRACK = 1
# Sample flags (ISO/IEC 14496-12 8.8.3.1): a keyframe depends on nothing; others do.
KEY_FLAGS = 0x02000000
DELTA_FLAGS = 0x01010000
MAX_DURATION = TIMESCALE  # a picture is shown at most a second before the next one replaces it
MIN_STEP = TIMESCALE // 1000  # between two decode times
MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def avc_config(sps: bytes, pps: bytes, info: h264.SequenceInfo) -> bytes:
    """The ``avcC`` record (ISO/IEC 14496-15 5.3.3.1), NAL lengths on 4 bytes."""
    record = bytes([1, info.profile, info.compatibility, info.level, 0xFC | 3, 0xE0 | 1])
    record += struct.pack(">H", len(sps)) + sps + bytes([1]) + struct.pack(">H", len(pps)) + pps
    if info.profile in h264.HIGH_PROFILES:
        record += bytes(
            [0xFC | info.chroma_format, 0xF8 | (info.luma_bit_depth - 8), 0xF8 | (info.chroma_bit_depth - 8), 0]
        )
    return box(b"avcC", record)


def init_segment(sps: bytes, pps: bytes) -> bytes:
    """``ftyp`` + ``moov`` for one H.264 video track at ``TIMESCALE``, no samples (they come in fragments)."""
    info = h264.parse_sps(sps)
    width, height = info.width, info.height
    sample_entry = box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressor name
        struct.pack(">Hh", 0x18, -1),
        avc_config(sps, pps, info),
    )
    empty_table = struct.pack(">I", 0)
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        full_box(b"stts", 0, 0, empty_table),
        full_box(b"stsc", 0, 0, empty_table),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, empty_table),
    )
    minf = box(
        b"minf",
        full_box(b"vmhd", 0, 1, bytes(8)),
        box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1))),
        stbl,
    )
    mdia = box(
        b"mdia",
        full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, 0, 0x55C4, 0)),  # language "und"
        full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"Live\x00"),
        minf,
    )
    tkhd = full_box(
        b"tkhd",
        0,
        3,  # enabled, in movie
        struct.pack(">IIII", 0, 0, TRACK, 0),
        struct.pack(">I", 0),  # duration
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 0),
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),
        MATRIX,
        bytes(24),
        struct.pack(">I", TRACK + 1),
    )
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", TRACK, 1, 0, 0, 0)))
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso6", b"avc1", b"mp41")
    return ftyp + box(b"moov", mvhd, box(b"trak", tkhd, mdia), mvex)


def media_fragment(
    *, sequence: int, decode_time: int, duration: int, composition_offset: int, key: bool, sample: bytes
) -> bytes:
    """``moof`` + ``mdat`` holding one sample (its NAL units, length-prefixed)."""
    # trun flags: data offset, then per sample its duration, size, flags and composition offset.
    trun_flags = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800

    def moof(data_offset: int) -> bytes:
        trun = full_box(
            b"trun",
            1,  # signed composition offsets
            trun_flags,
            struct.pack(
                ">IiIIIi",
                1,
                data_offset,
                duration,
                len(sample),
                KEY_FLAGS if key else DELTA_FLAGS,
                composition_offset,
            ),
        )
        traf = box(
            b"traf",
            full_box(b"tfhd", 0, 0x020000, struct.pack(">I", TRACK)),  # default-base-is-moof
            full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time)),
            trun,
        )
        return box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), traf)

    size = len(moof(0))
    return moof(size + 8) + struct.pack(">I", 8 + len(sample)) + b"mdat" + sample


@dataclass(frozen=True)
class Fragment:
    """One picture ready for viewers. ``stream`` names the init segment it needs: a viewer
    that has another (or none) gets ``init`` first; every keyframe carries it."""

    data: bytes
    key: bool
    stream: str
    seq: int
    init: bytes
    codec: str
    width: int
    height: int


class Fragmenter:
    """A camera's access units in, fragments out (None until the first keyframe with its
    parameter sets). A new SPS or PPS starts a new stream (a new init segment)."""

    def __init__(self, *, extradata: bytes = b"", default_duration: int = TIMESCALE // 15) -> None:
        nals, self.length_size = h264.from_extradata(extradata)
        self.sps, self.pps = h264.parameter_sets(nals)
        self.default_duration = default_duration
        self.name = uuid.uuid4().hex[:12]
        self.generation = 0
        self.init = b""
        self.info: h264.SequenceInfo | None = None
        self.sequence = 0
        self.previous_dts: int | None = None
        self.origin: int | None = None  # the first decode time: a live timeline starts at 0
        self.duration = default_duration

    @property
    def stream(self) -> str:
        return f"{self.name}.{self.generation}"

    def push(self, data: bytes, *, dts: int, pts: int | None = None, key: bool | None = None) -> Fragment | None:
        """One access unit, its decode (and presentation) time in ``TIMESCALE`` ticks.

        ``key`` as the demuxer flagged it; None (a push camera): an IDR slice makes a keyframe.
        Raises ``h264.BadStream`` for bytes that are not H.264 as this site relays it."""
        if self.length_size is None:
            nals = h264.split_annexb(data)
        else:
            nals = h264.split_length_prefixed(data, self.length_size)
        if key is None:
            key = any(h264.nal_type(nal) == h264.IDR for nal in nals)
        if key:
            sps, pps = h264.parameter_sets(nals)
            sps, pps = sps or self.sps, pps or self.pps
            if sps is None or pps is None:
                return None  # no parameter sets yet: wait for a keyframe that carries them
            if not self.init or (sps, pps) != (self.sps, self.pps):
                self._new_stream(sps, pps)
        elif not self.init:
            return None  # a viewer starts at a keyframe
        sample = b"".join(struct.pack(">I", len(nal)) + nal for nal in h264.picture_nals(nals))
        if not sample:
            return None  # parameter sets only
        if self.previous_dts is not None and dts <= self.previous_dts:
            # Decode times must increase: pictures a network burst delivered together (a push
            # camera's are stamped on arrival), or a camera's clock stepping back.
            dts = self.previous_dts + MIN_STEP
        if self.previous_dts is not None and dts - self.previous_dts <= MAX_DURATION:
            self.duration = dts - self.previous_dts  # the next picture's delay is likely this one's
        self.previous_dts = dts
        if self.origin is None:
            self.origin = dts  # encoders with B-frames start decode times below zero
        self.sequence += 1
        fragment = media_fragment(
            sequence=self.sequence,
            decode_time=max(0, dts - self.origin),
            duration=self.duration,
            composition_offset=0 if pts is None else pts - dts,
            key=key,
            sample=sample,
        )
        assert self.info is not None
        return Fragment(
            fragment,
            key,
            self.stream,
            self.sequence,
            self.init if key else b"",
            self.info.codec,
            self.info.width,
            self.info.height,
        )

    def _new_stream(self, sps: bytes, pps: bytes) -> None:
        self.info = h264.parse_sps(sps)
        self.init = init_segment(sps, pps)
        self.sps, self.pps = sps, pps
        self.generation += 1
