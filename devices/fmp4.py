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

from devices import h264, h265

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


def hevc_config(sets: dict[int, bytes], info: h265.SequenceInfo) -> bytes:
    """The ``hvcC`` record (ISO/IEC 14496-15 8.3.3.1), NAL lengths on 4 bytes."""
    record = bytes([1, (info.profile_space << 6) | (info.tier << 5) | info.profile])
    record += struct.pack(">I", info.compatibility) + info.constraints + bytes([info.level])
    record += struct.pack(
        ">HBBBBH",
        0xF000,
        0xFC,
        0xFC | info.chroma_format,
        0xF8 | (info.luma_bit_depth - 8),
        0xF8 | (info.chroma_bit_depth - 8),
        0,
    )
    record += bytes([(info.temporal_layers << 3) | (info.temporal_id_nested << 2) | 3, len(h265.PARAMETER_SETS)])
    for kind in h265.PARAMETER_SETS:
        nal = sets[kind]
        record += bytes([0x80 | kind]) + struct.pack(">HH", 1, len(nal)) + nal
    return box(b"hvcC", record)


def init_segment(entry: bytes, config: bytes, width: int, height: int, codec: str) -> bytes:
    """``ftyp`` + ``moov`` for one video track at ``TIMESCALE``, no samples (they come in
    fragments): ``entry`` the sample entry's type (``avc1``, ``hvc1``), ``config`` its
    decoder configuration box. The handler's name is the codec string, for the page (a
    player needs it before it can hand the segment to Media Source Extensions)."""
    sample_entry = box(
        entry,
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressor name
        struct.pack(">Hh", 0x18, -1),
        config,
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
        full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), codec.encode("ascii") + b"\x00"),
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
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso6", entry, b"mp41")
    return ftyp + box(b"moov", mvhd, box(b"trak", tkhd, mdia), mvex)


@dataclass(frozen=True)
class StreamConfig:
    """What a stream's init segment says: the bytes, and for people and MSE its codec and size."""

    init: bytes
    codec: str
    width: int
    height: int


class _Avc:
    name = "h264"
    parameter_sets = (h264.SPS, h264.PPS)
    not_in_samples = (h264.SPS, h264.PPS, h264.AUD)  # in the init segment, or nothing to show
    nal_type = staticmethod(h264.nal_type)
    from_extradata = staticmethod(h264.from_extradata)

    @staticmethod
    def is_key(types: list[int]) -> bool:
        return h264.IDR in types

    @staticmethod
    def configure(sets: dict[int, bytes]) -> StreamConfig:
        info = h264.parse_sps(sets[h264.SPS])
        config = avc_config(sets[h264.SPS], sets[h264.PPS], info)
        init = init_segment(b"avc1", config, info.width, info.height, info.codec)
        return StreamConfig(init, info.codec, info.width, info.height)


class _Hevc:
    name = "hevc"
    parameter_sets = h265.PARAMETER_SETS
    not_in_samples = (*h265.PARAMETER_SETS, h265.AUD)
    nal_type = staticmethod(h265.nal_type)
    from_extradata = staticmethod(h265.from_extradata)

    @staticmethod
    def is_key(types: list[int]) -> bool:
        return any(h265.FIRST_KEY <= kind <= h265.LAST_KEY for kind in types)

    @staticmethod
    def configure(sets: dict[int, bytes]) -> StreamConfig:
        info = h265.parse_sps(sets[h265.SPS])
        config = hevc_config(sets, info)
        init = init_segment(b"hvc1", config, info.width, info.height, info.codec)
        return StreamConfig(init, info.codec, info.width, info.height)


SYNTAX: dict[str, type[_Avc] | type[_Hevc]] = {"h264": _Avc, "hevc": _Hevc}
CODECS = tuple(SYNTAX)  # what live MP4 carries


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
    codec: str  # the MSE codec string, e.g. avc1.42c01e
    width: int
    height: int
    family: str = "h264"  # or "hevc" (``CODECS``): which browsers can play it


class Fragmenter:
    """A camera's access units in, fragments out (None until the first keyframe with its
    parameter sets). New parameter sets start a new stream (a new init segment).
    ``codec``: "h264" or "hevc" (``CODECS``)."""

    def __init__(self, *, codec: str = "h264", extradata: bytes = b"", default_duration: int = TIMESCALE // 15) -> None:
        self.syntax = SYNTAX[codec]
        nals, self.length_size = self.syntax.from_extradata(extradata)
        self.sets = self._parameter_sets(nals)
        self.default_duration = default_duration
        self.name = uuid.uuid4().hex[:12]
        self.generation = 0
        self.config: StreamConfig | None = None
        self.configured_with: dict[int, bytes] = {}
        self.sequence = 0
        self.previous_dts: int | None = None  # the camera's, of the previous picture
        self.time = 0  # the previous picture's on the viewer's timeline
        self.duration = default_duration

    @property
    def stream(self) -> str:
        return f"{self.name}.{self.generation}"

    def _parameter_sets(self, nals: list[bytes]) -> dict[int, bytes]:
        sets: dict[int, bytes] = {}
        for nal in nals:
            kind = self.syntax.nal_type(nal)
            if kind in self.syntax.parameter_sets:
                sets.setdefault(kind, nal)
        return sets

    def _decode_time(self, dts: int) -> int:
        """The picture's place on the viewer's timeline (from 0): the camera's steps between
        pictures, always forward. Decode times must increase: pictures a network burst
        delivered together (a push camera's are stamped on arrival) get a millisecond apart;
        a jump of over a second either way (a camera's clock reset, a stream resumed) continues
        the timeline where it was, or the picture would freeze while it catches up."""
        previous, self.previous_dts = self.previous_dts, dts
        if previous is None:
            self.time = 0
            return 0
        step = dts - previous
        if 0 < step <= MAX_DURATION:
            self.duration = step  # the next picture's delay is likely this one's
        elif -MAX_DURATION < step <= 0:
            step = MIN_STEP
        else:
            step = self.duration
        self.time += step
        return self.time

    def push(self, data: bytes, *, dts: int, pts: int | None = None, key: bool | None = None) -> Fragment | None:
        """One access unit, its decode (and presentation) time in ``TIMESCALE`` ticks.

        ``key`` as the demuxer flagged it; None (a push camera): the NAL units say.
        Raises ``h264.BadStream`` for bytes that are not the codec as this site relays it."""
        if self.length_size is None:
            nals = h264.split_annexb(data)
        else:
            nals = h264.split_length_prefixed(data, self.length_size)
        types = [self.syntax.nal_type(nal) for nal in nals]
        if key is None:
            key = self.syntax.is_key(types)
        if key:
            sets = {**self.sets, **self._parameter_sets(nals)}
            if any(kind not in sets for kind in self.syntax.parameter_sets):
                return None  # no parameter sets yet: wait for a keyframe that carries them
            self.sets = sets
            if self.config is None or sets != self.configured_with:
                self.config = self.syntax.configure(sets)
                self.configured_with = sets
                self.generation += 1
        elif self.config is None:
            return None  # a viewer starts at a keyframe
        shown = [nal for nal, kind in zip(nals, types, strict=True) if kind not in self.syntax.not_in_samples]
        sample = b"".join(struct.pack(">I", len(nal)) + nal for nal in shown)
        if not sample:
            return None  # parameter sets only
        self.sequence += 1
        fragment = media_fragment(
            sequence=self.sequence,
            decode_time=self._decode_time(dts),
            duration=self.duration,
            composition_offset=0 if pts is None else pts - dts,
            key=key,
            sample=sample,
        )
        config = self.config
        return Fragment(
            fragment,
            key,
            self.stream,
            self.sequence,
            config.init if key else b"",
            config.codec,
            config.width,
            config.height,
            self.syntax.name,
        )
