"""H.265 (HEVC) as cameras send it: NAL unit types and the fields of the sequence parameter set
that an MP4 ``hvcC`` record and a browser's codec string need. Like ``devices.h264``: no
decoding, every length bounded, ``h264.BadStream`` for what cannot be read."""

from dataclasses import dataclass

from devices.h264 import MAX_BIT_DEPTH, MAX_SIDE, BadStream, BitReader, rbsp, split_annexb

VPS, SPS, PPS, AUD = 32, 33, 34, 35
PARAMETER_SETS = (VPS, SPS, PPS)
FIRST_KEY, LAST_KEY = 16, 23  # intra random access points (IDR, CRA, BLA)


def nal_type(nal: bytes) -> int:
    if len(nal) < 2:
        raise BadStream("An H.265 NAL unit has a two-byte header.")
    return (nal[0] >> 1) & 0x3F


@dataclass(frozen=True)
class SequenceInfo:
    profile_space: int
    tier: int
    profile: int
    compatibility: int  # 32 flags
    constraints: bytes  # 6 bytes
    level: int
    chroma_format: int
    luma_bit_depth: int
    chroma_bit_depth: int
    temporal_layers: int
    temporal_id_nested: int
    width: int
    height: int

    @property
    def codec(self) -> str:
        """The codec string MSE asks for (ISO/IEC 14496-15 annex E), e.g. ``hvc1.1.6.L93.B0``."""
        space = ("", "A", "B", "C")[self.profile_space]
        reversed_flags = int(f"{self.compatibility:032b}"[::-1], 2)
        constraints = self.constraints.rstrip(b"\x00")
        parts = [f"hvc1.{space}{self.profile}", f"{reversed_flags:x}", f"{'LH'[self.tier]}{self.level}"]
        return ".".join(parts + [f"{byte:x}" for byte in constraints])


def parse_sps(nal: bytes) -> SequenceInfo:
    """The profile, tier and level, chroma format, bit depths and displayed size (H.265 7.3.2.2)."""
    if len(nal) < 6 or nal_type(nal) != SPS:
        raise BadStream("Not an H.265 sequence parameter set.")
    if len(nal) > 1024:
        raise BadStream("The sequence parameter set is too long.")
    bits = BitReader(rbsp(nal[2:]))
    bits.bits(4)  # sps_video_parameter_set_id
    sub_layers = bits.bits(3)  # sps_max_sub_layers_minus1
    nested = bits.bit()
    profile_space, tier, profile = bits.bits(2), bits.bit(), bits.bits(5)
    compatibility = bits.bits(32)
    constraints = bits.bits(48).to_bytes(6, "big")
    level = bits.bits(8)
    present = [(bits.bit(), bits.bit()) for _ in range(sub_layers)]
    if sub_layers:
        bits.bits(2 * (8 - sub_layers))  # reserved_zero_2bits
    for profile_present, level_present in present:
        bits.bits(88 * profile_present + 8 * level_present)
    bits.ue()  # sps_seq_parameter_set_id
    chroma_format = bits.ue()
    if chroma_format > 3:
        raise BadStream("Unknown chroma format.")
    if chroma_format == 3:
        bits.bit()  # separate_colour_plane_flag
    width, height = bits.ue(), bits.ue()
    if bits.bit():  # conformance_window_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        unit_x = 2 if chroma_format in (1, 2) else 1
        unit_y = 2 if chroma_format == 1 else 1
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    luma_depth, chroma_depth = bits.ue() + 8, bits.ue() + 8
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or max(luma_depth, chroma_depth) > MAX_BIT_DEPTH:
        raise BadStream(f"A picture of {width}x{height} pixels is not supported.")
    return SequenceInfo(
        profile_space,
        tier,
        profile,
        compatibility,
        constraints,
        level,
        chroma_format,
        luma_depth,
        chroma_depth,
        sub_layers + 1,
        nested,
        width,
        height,
    )


def from_extradata(extradata: bytes) -> tuple[list[bytes], int | None]:
    """Like ``h264.from_extradata``, for an ``hvcC`` record (MP4, Matroska) or Annex B."""
    if not extradata:
        return [], None
    if extradata[0] != 1:
        return split_annexb(extradata), None
    if len(extradata) < 23:
        raise BadStream("The stream's decoder configuration is cut off.")
    length_size = (extradata[21] & 0x03) + 1
    nals: list[bytes] = []
    position = 23
    for _ in range(extradata[22]):
        count = int.from_bytes(extradata[position + 1 : position + 3], "big")
        position += 3
        for _ in range(count):
            if position + 2 > len(extradata):
                raise BadStream("The stream's decoder configuration is cut off.")
            size = int.from_bytes(extradata[position : position + 2], "big")
            nals.append(extradata[position + 2 : position + 2 + size])
            position += 2 + size
    return [nal for nal in nals if len(nal) >= 2], length_size
