"""H.264 as cameras send it: access units split into NAL units, and the few fields of the
sequence parameter set that a browser's MP4 parser needs (profile, level, size).

No decoding happens here: the bytes a camera sends are only cut at start codes or
length prefixes and its SPS read for a few dozen bits, with every length bounded. A
stream this module cannot read is refused with ``BadStream`` (the device socket closes
with 4400), never passed on half-understood.
"""

from dataclasses import dataclass

# NAL unit types (ITU-T H.264 table 7-1) that matter here.
SLICE, IDR, SEI, SPS, PPS, AUD = 1, 5, 6, 7, 8, 9
HIGH_PROFILES = (100, 110, 122, 144, 44, 83, 86, 118, 128, 138, 139, 134, 135)
MAX_NALS = 512  # per access unit: far more than any encoder writes (slices, SEI, parameter sets)
MAX_SIDE = 8192
MAX_BIT_DEPTH = 14  # H.264 allows up to 14 bits a sample


class BadStream(ValueError):
    """Bytes that are not an H.264 stream this site can relay; the message says why, for people."""


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (each after a 00 00 01 or 00 00 00 01 start code)."""
    start = data.find(b"\x00\x00\x01")
    if start < 0 or data[:start].strip(b"\x00"):
        raise BadStream("An H.264 access unit starts with a start code (00 00 00 01).")
    if data.count(b"\x00\x00\x01") > MAX_NALS:  # empty ones too: a flood of start codes costs time
        raise BadStream(f"More than {MAX_NALS} NAL units in one access unit.")
    nals: list[bytes] = []
    position = start + 3
    while True:
        following = data.find(b"\x00\x00\x01", position)
        end = len(data) if following < 0 else following
        # Trailing zeros belong to the next start code (or are trailing_zero_8bits).
        nal = data[position:end].rstrip(b"\x00") if following >= 0 else data[position:end]
        if nal:
            nals.append(nal)
            if len(nals) > MAX_NALS:
                raise BadStream(f"More than {MAX_NALS} NAL units in one access unit.")
        if following < 0:
            return nals
        position = following + 3


def split_length_prefixed(data: bytes, length_size: int) -> list[bytes]:
    """The NAL units of an MP4-style access unit (each after a big-endian length)."""
    nals: list[bytes] = []
    position = 0
    while position < len(data):
        if position + length_size > len(data):
            raise BadStream("A NAL unit's length is cut off.")
        size = int.from_bytes(data[position : position + length_size], "big")
        position += length_size
        if size == 0 or position + size > len(data):
            raise BadStream("A NAL unit's length runs past the access unit.")
        nals.append(data[position : position + size])
        position += size
        if len(nals) > MAX_NALS:
            raise BadStream(f"More than {MAX_NALS} NAL units in one access unit.")
    return nals


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def rbsp(nal: bytes) -> bytes:
    """The RBSP: emulation-prevention bytes (00 00 03) removed."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.left = len(data) * 8

    def bit(self) -> int:
        return self.bits(1)

    def bits(self, count: int) -> int:
        if count > self.left:
            raise BadStream("The sequence parameter set is cut off.")
        self.left -= count
        return (self.value >> self.left) & ((1 << count) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise BadStream("The sequence parameter set holds an impossible number.")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value % 2 else -(value // 2)


@dataclass(frozen=True)
class SequenceInfo:
    profile: int
    compatibility: int
    level: int
    width: int
    height: int
    chroma_format: int = 1
    luma_bit_depth: int = 8
    chroma_bit_depth: int = 8

    @property
    def codec(self) -> str:
        """The RFC 6381 codec string MSE asks for (``avc1.PPCCLL``)."""
        return f"avc1.{self.profile:02x}{self.compatibility:02x}{self.level:02x}"


def _skip_scaling_list(bits: BitReader, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last


def parse_sps(nal: bytes) -> SequenceInfo:
    """Profile, level and displayed size from a sequence parameter set (H.264 7.3.2.1.1)."""
    if len(nal) < 4 or nal_type(nal) != SPS:
        raise BadStream("Not a sequence parameter set.")
    if len(nal) > 1024:
        raise BadStream("The sequence parameter set is too long.")
    bits = BitReader(rbsp(nal[1:]))
    profile, compatibility, level = bits.bits(8), bits.bits(8), bits.bits(8)
    bits.ue()  # seq_parameter_set_id
    chroma_format, luma_depth, chroma_depth = 1, 8, 8
    if profile in HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format > 3:
            raise BadStream("Unknown chroma format.")
        if chroma_format == 3:
            bits.bit()  # separate_colour_plane_flag
        luma_depth, chroma_depth = bits.ue() + 8, bits.ue() + 8
        if max(luma_depth, chroma_depth) > MAX_BIT_DEPTH:
            raise BadStream("A bit depth above 14 is not supported.")
        bits.bit()  # qpprime_y_zero_transform_bypass_flag
        if bits.bit():  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    order_type = bits.ue()
    if order_type == 0:
        bits.ue()
    elif order_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        cycle = bits.ue()
        if cycle > 255:
            raise BadStream("The sequence parameter set holds an impossible number.")
        for _ in range(cycle):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bit()  # gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
    frames_only = bits.bit()
    if not frames_only:
        bits.bit()  # mb_adaptive_frame_field_flag
    bits.bit()  # direct_8x8_inference_flag
    width, height = width_mbs * 16, (2 - frames_only) * height_units * 16
    if bits.bit():  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        unit_x = 2 if chroma_format in (1, 2) else 1
        unit_y = (2 if chroma_format == 1 else 1) * (2 - frames_only)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise BadStream(f"A picture of {width}x{height} pixels is not supported.")
    return SequenceInfo(profile, compatibility, level, width, height, chroma_format, luma_depth, chroma_depth)


def from_extradata(extradata: bytes) -> tuple[list[bytes], int | None]:
    """The parameter sets a demuxer found out of band, and the NAL length size when its
    packets are MP4-style (an ``avcC`` record) rather than Annex B (None)."""
    if not extradata:
        return [], None
    if extradata[0] != 1:
        return split_annexb(extradata), None
    if len(extradata) < 7:
        raise BadStream("The stream's decoder configuration is cut off.")
    length_size = (extradata[4] & 0x03) + 1
    nals: list[bytes] = []
    position = 5
    for count_mask in (0x1F, 0xFF):
        if position >= len(extradata):
            break
        count = extradata[position] & count_mask
        position += 1
        for _ in range(count):
            size = int.from_bytes(extradata[position : position + 2], "big")
            nals.append(extradata[position + 2 : position + 2 + size])
            position += 2 + size
    return [nal for nal in nals if nal], length_size
