"""Synthetic clips for tests and benchmarks: a mostly static scene, and hostile files.

``make_clip`` writes an H.264 (libx264, yuv420p) MP4 with PyAV: a fixed textured
background with a little sensor-like noise, and a bright block that moves only
during the given ``(start_s, end_s)`` intervals (it stays put in between). With
``faststart=False`` the file keeps FFmpeg's default layout for MP4, the index
(``moov``) after the media data (``mdat``), as many cameras and recorders write it.

``codec``, ``pixel_format`` and ``container`` make what other cameras write:
H.265, MPEG-4 Part 2, VP8/VP9, 10-bit or 4:4:4 H.264, in MPEG-TS, Matroska,
WebM, or a raw H.264 stream with no container; ``audio`` adds a sound track.

The hostile helpers make what an attacker or a broken upload could send: a
truncated copy, a copy with a damaged stretch in the middle, random bytes named
``.mp4``, a JPEG, an HTML page, audio alone, and a valid MP4 whose H.264
sequence parameter set (and sample entry and track header) claim absurd
dimensions, so that a reader trusting the header would try to allocate
gigabytes.
"""

import fractions
import os
import struct
from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from recordings.video.faststart import Box, iter_boxes

__all__ = [
    "make_audio_only",
    "make_clip",
    "make_damaged_copy",
    "make_html_page",
    "make_huge_dimensions_copy",
    "make_jpeg",
    "make_random_file",
    "make_truncated_copy",
]

# Encoder options: fast, quiet, camera-like (no B-frames where the encoder has them).
_ENCODER_OPTIONS = {
    "libx264": {},
    "libx265": {"x265-params": "log-level=error:bframes=0"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
    "mpeg4": {},
}
_AUDIO_RATES = {"pcm_s16le": 8000, "aac": 48000, "libopus": 48000, "libvorbis": 48000}

NOISE_FRAMES = 5  # distinct noise patterns, cycled (drawing fresh noise for every 1080p frame is slow)


def make_clip(
    path: str | os.PathLike[str],
    *,
    seconds: float,
    fps: int = 15,
    width: int = 640,
    height: int = 360,
    motion: Sequence[tuple[float, float]] = (),
    faststart: bool = True,
    contrast: float = 1.0,
    noise: float = 1.5,
    preset: str = "veryfast",
    seed: int = 1,
    codec: str = "libx264",
    pixel_format: str = "yuv420p",
    container: str = "mp4",
    audio: str = "",
) -> None:
    """Write an H.264 MP4 of ``seconds`` at ``fps`` where a block moves only during ``motion``.

    ``contrast`` (0..1) scales how much brighter than the background the block
    is: low values make weak motion. ``noise`` is the standard deviation, in
    grey levels, of the per-frame noise added everywhere. ``faststart`` puts the
    index before the media data. Camera-like encoding: no B-frames, a keyframe
    every 2 s. ``codec`` is a PyAV encoder (``libx264``, ``libx265``, ``mpeg4``,
    ``libvpx``, ``libvpx-vp9``), ``pixel_format`` its input (``yuv420p10le``,
    ``yuv444p``), ``container`` an FFmpeg muxer (``mp4``, ``mpegts``,
    ``matroska``, ``webm``, ``h264`` for a raw stream), ``audio`` an audio
    encoder for a silent sound track (``aac``, ``pcm_s16le``, ``libopus``).
    """
    if width % 2 or height % 2 or width < 32 or height < 32:
        raise ValueError("width and height must be even and at least 32")
    if seconds <= 0 or fps <= 0:
        raise ValueError("seconds and fps must be positive")
    rng = np.random.default_rng(seed)
    background = _background(width, height, rng)
    noises = [np.clip(rng.normal(0.0, noise, (height, width)), -127, 127).astype(np.int16) for _ in range(NOISE_FRAMES)]
    chroma = np.full((height // 2, width), 128, dtype=np.uint8)
    chroma[: height // 4] = 120  # U plane (the upper half of the block): slightly blue-shifted, still greyish
    block_w, block_h = max(8, width // 8), max(8, height // 5)
    offset = round(100 * max(0.0, min(1.0, contrast)))
    speed = width / 4  # pixels per second while moving
    travel = width - block_w - 2 * (width // 20)

    frame_count = max(1, round(seconds * fps))
    time_base = fractions.Fraction(1, fps)
    options = {"movflags": "+faststart"} if faststart and container == "mp4" else {}
    with av.open(os.fspath(path), mode="w", format=container, options=options) as output:
        stream = output.add_stream(codec, rate=fps)
        if not isinstance(stream, VideoStream):
            raise ValueError(f"{codec} is not a video encoder")
        stream.width, stream.height, stream.pix_fmt = width, height, pixel_format
        stream.codec_context.gop_size = 2 * fps
        stream.codec_context.max_b_frames = 0
        encoder_options = dict(_ENCODER_OPTIONS.get(codec, {}))
        if codec == "libx264":
            encoder_options["preset"] = preset
        stream.codec_context.options = encoder_options
        sound = _sound_stream(output, audio) if audio else None
        planes = np.empty((height * 3 // 2, width), dtype=np.uint8)
        planes[height:] = chroma
        for index in range(frame_count):
            moved = _moving_time(index / fps, motion)
            position = (moved * speed) % (2 * travel) if travel > 0 else 0.0
            x = width // 20 + int(position if position <= travel else 2 * travel - position)
            y = (height - block_h) // 2
            luma = background + noises[index % NOISE_FRAMES]
            luma[y : y + block_h, x : x + block_w] += offset
            np.clip(luma, 0, 255, out=luma)
            planes[:height] = luma
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            if pixel_format != "yuv420p":
                frame = frame.reformat(format=pixel_format)
            frame.pts, frame.time_base = index, time_base
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
        if sound is not None:
            _silence(output, sound, seconds)


def _sound_stream(output: av.container.OutputContainer, codec: str) -> AudioStream:
    """A mono sound track (added before anything is muxed: the header lists every stream)."""
    stream = output.add_stream(codec, rate=_AUDIO_RATES.get(codec, 48000))
    if not isinstance(stream, AudioStream):
        raise ValueError(f"{codec} is not an audio encoder")
    stream.layout = "mono"
    return stream


def _silence(output: av.container.OutputContainer, stream: AudioStream, seconds: float) -> None:
    """``seconds`` of silence on ``stream`` (after the video: the file stays valid, if not interleaved)."""
    context = stream.codec_context
    rate = context.sample_rate
    samples_per_frame = context.frame_size or 1024
    sample_format = context.format.name
    dtype = np.int16 if sample_format.startswith("s16") else np.float32
    for start in range(0, round(seconds * rate), samples_per_frame):
        silence = np.zeros((1, samples_per_frame), dtype=dtype)
        frame = av.AudioFrame.from_ndarray(silence, format=sample_format, layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, fractions.Fraction(1, rate)
        for packet in stream.encode(frame):
            output.mux(packet)
    for packet in stream.encode(None):
        output.mux(packet)


def _moving_time(t: float, motion: Sequence[tuple[float, float]]) -> float:
    """How long the block has been moving by time ``t``."""
    return sum(max(0.0, min(t, end) - start) for start, end in motion if end > start)


def _background(width: int, height: int, rng: np.random.Generator) -> npt.NDArray[np.int16]:
    """A fixed scene: a gradient with soft blotches, grey levels about 40..150."""
    gradient = (
        np.linspace(50.0, 110.0, width, dtype=np.float32)[None, :]
        + np.linspace(0.0, 20.0, height, dtype=np.float32)[:, None]
    )
    coarse = rng.uniform(-20.0, 20.0, (max(2, height // 40), max(2, width // 40))).astype(np.float32)
    blotches = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(gradient + blotches, 0, 255).astype(np.int16)


# --- hostile files ------------------------------------------------------------------


def make_truncated_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, fraction: float = 0.5) -> None:
    """Copy the first ``fraction`` of ``src`` to ``dst`` (a broken upload)."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * fraction)])


def make_damaged_copy(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, start: float = 0.4, end: float = 0.6
) -> None:
    """Copy ``src`` with the bytes from ``start`` to ``end`` (fractions of its size) zeroed: a damaged stretch.

    For an MP4 made with ``faststart=False`` the index is at the end, so the
    stretch hits only media data: the frames in it are lost, those after it are not.
    """
    data = bytearray(Path(src).read_bytes())
    first, last = int(len(data) * start), int(len(data) * end)
    data[first:last] = bytes(last - first)
    Path(dst).write_bytes(bytes(data))


def make_jpeg(path: str | os.PathLike[str], *, width: int = 64, height: int = 48) -> None:
    """A small JPEG photo (a camera's snapshot uploaded as a clip)."""
    ok, encoded = cv2.imencode(".jpg", np.full((height, width, 3), 90, dtype=np.uint8))
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit image
        raise RuntimeError("JPEG encoding failed")
    Path(path).write_bytes(encoded.tobytes())


def make_html_page(path: str | os.PathLike[str]) -> None:
    """An HTML page (what a camera's web server answers instead of the clip it was asked for)."""
    Path(path).write_text(
        "<!DOCTYPE html>\n<html><head><title>Login</title></head><body><form>password</form></body></html>\n"
    )


def make_audio_only(path: str | os.PathLike[str], *, seconds: float = 2.0) -> None:
    """An MP4 (.m4a) holding one AAC sound track and no video."""
    with av.open(os.fspath(path), mode="w", format="mp4") as output:
        _silence(output, _sound_stream(output, "aac"), seconds)


def make_random_file(path: str | os.PathLike[str], *, size: int = 256 * 1024, seed: int = 7) -> None:
    """``size`` random bytes, whatever the name says (``.mp4``)."""
    Path(path).write_bytes(np.random.default_rng(seed).bytes(size))


def make_huge_dimensions_copy(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, width: int = 20000, height: int = 20000
) -> None:
    """Copy an MP4 made by ``make_clip(..., faststart=False)`` claiming ``width`` x ``height``.

    The claim is made everywhere a reader looks: the H.264 sequence parameter
    set in ``avcC`` (rewritten bit by bit, its exp-Golomb fields change length),
    the ``avc1`` sample entry and the ``tkhd`` track header. The media data is
    untouched, so the slices no longer match the header. ``src`` must have its
    ``moov`` after ``mdat`` (no chunk offsets move when ``moov`` changes size).
    Dimensions must be multiples of 16 (no cropping) and at most 65535.
    """
    if width % 16 or height % 16 or not 16 <= width <= 65535 or not 16 <= height <= 65535:
        raise ValueError("dimensions must be multiples of 16 between 16 and 65535")
    data = bytearray(Path(src).read_bytes())
    boxes = iter_boxes(bytes(data))
    kinds = [box.kind for box in boxes]
    if "moov" not in kinds or "mdat" not in kinds or kinds.index("moov") < kinds.index("mdat"):
        raise ValueError("the source must be an MP4 with moov after mdat (make_clip(..., faststart=False))")
    moov = next(box for box in boxes if box.kind == "moov")
    new_moov = _patch_moov(bytes(data[moov.offset : moov.offset + moov.size]), width, height)
    Path(dst).write_bytes(bytes(data[: moov.offset]) + new_moov + bytes(data[moov.offset + moov.size :]))


_CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl"}


def _patch_moov(moov: bytes, width: int, height: int) -> bytes:
    """Rewrite the boxes inside ``moov`` (a whole box), fixing every size on the way up."""

    def rewrite(box: bytes, kind: str) -> bytes:
        body = box[8:]
        if kind in _CONTAINERS:
            body = b"".join(rewrite(child_bytes, child.kind) for child, child_bytes in _children(body))
        elif kind == "tkhd":
            header = bytearray(body)
            at = 4 + (32 if header[0] == 1 else 20) + 52  # version/flags, times/ids/duration, reserved..matrix
            if struct.unpack(">II", header[at : at + 8]) != (0, 0):  # a video track (audio has 0 x 0)
                header[at : at + 8] = struct.pack(">II", width << 16, height << 16)
            body = bytes(header)
        elif kind == "stsd":
            head, entries = body[:8], body[8:]
            patched = (_patch_sample_entry(entry, child.kind, width, height) for child, entry in _children(entries))
            body = head + b"".join(patched)
        return struct.pack(">I", 8 + len(body)) + kind.encode("latin-1") + body

    return rewrite(moov, "moov")


def _children(body: bytes) -> list[tuple[Box, bytes]]:
    return [(box, body[box.offset : box.offset + box.size]) for box in iter_boxes(body)]


def _patch_sample_entry(entry: bytes, kind: str, width: int, height: int) -> bytes:
    if kind not in {"avc1", "avc3"}:
        return entry
    body = bytearray(entry[8:])
    # SampleEntry: 6 reserved + 2 data_reference_index; VisualSampleEntry: 16 bytes, then width, height.
    body[24:28] = struct.pack(">HH", width, height)
    fixed, rest = bytes(body[:78]), bytes(body[78:])
    patched = b"".join(
        _patch_avcc(child_bytes, width, height) if child.kind == "avcC" else child_bytes
        for child, child_bytes in _children(rest)
    )
    return struct.pack(">I", 8 + len(fixed) + len(patched)) + kind.encode("latin-1") + fixed + patched


def _patch_avcc(box: bytes, width: int, height: int) -> bytes:
    body = box[8:]
    out = bytearray(body[:5])
    sps_count = body[5] & 0x1F
    out.append(body[5])
    at = 6
    for _ in range(sps_count):
        (length,) = struct.unpack(">H", body[at : at + 2])
        sps = _rewrite_sps(body[at + 2 : at + 2 + length], width, height)
        out += struct.pack(">H", len(sps)) + sps
        at += 2 + length
    out += body[at:]  # the PPS and any high-profile trailer
    return struct.pack(">I", 8 + len(out)) + b"avcC" + bytes(out)


def _rewrite_sps(nal: bytes, width: int, height: int) -> bytes:
    """A copy of an H.264 SPS NAL unit with new ``pic_width_in_mbs`` / ``pic_height_in_map_units``."""
    reader = _BitReader(_unescape(nal[1:]))
    writer = _BitWriter()

    def copy_bits(count: int) -> int:
        value = reader.bits(count)
        writer.bits(value, count)
        return value

    def copy_ue() -> int:
        value = reader.ue()
        writer.ue(value)
        return value

    profile = copy_bits(8)
    copy_bits(16)  # constraint flags, level
    copy_ue()  # seq_parameter_set_id
    if profile in {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}:
        if copy_ue() == 3:  # chroma_format_idc
            copy_bits(1)
        copy_ue()  # bit_depth_luma_minus8
        copy_ue()  # bit_depth_chroma_minus8
        copy_bits(1)  # qpprime_y_zero_transform_bypass_flag
        if copy_bits(1):  # seq_scaling_matrix_present_flag
            raise ValueError("SPS with scaling matrices is not supported")
    copy_ue()  # log2_max_frame_num_minus4
    poc_type = copy_ue()
    if poc_type == 0:
        copy_ue()
    elif poc_type == 1:
        raise ValueError("SPS with pic_order_cnt_type 1 is not supported")
    copy_ue()  # max_num_ref_frames
    copy_bits(1)  # gaps_in_frame_num_value_allowed_flag
    reader.ue()
    reader.ue()
    writer.ue(width // 16 - 1)
    frame_mbs_only = reader.bits(1)
    if not frame_mbs_only:
        raise ValueError("interlaced SPS is not supported")
    writer.ue(height // 16 - 1)
    writer.bits(1, 1)
    # The rest (direct_8x8_inference, cropping, VUI) is copied; the stop bit is rewritten.
    remaining = reader.remaining_payload_bits()
    for bit in remaining:
        writer.bits(bit, 1)
    writer.bits(1, 1)  # rbsp_stop_one_bit
    return nal[:1] + _escape(writer.aligned())


def _unescape(data: bytes) -> bytes:
    return data.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(data: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for byte in data:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class _BitReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def bit(self) -> int:
        byte = self.data[self.position // 8]
        value = (byte >> (7 - self.position % 8)) & 1
        self.position += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)

    def remaining_payload_bits(self) -> list[int]:
        """The bits left before the ``rbsp_stop_one_bit`` (the last 1 in the data)."""
        total = len(self.data) * 8
        last_one = max(i for i in range(total) if (self.data[i // 8] >> (7 - i % 8)) & 1)
        return [self.bit() for _ in range(last_one - self.position)]


class _BitWriter:
    def __init__(self) -> None:
        self.out: list[int] = []

    def bits(self, value: int, count: int) -> None:
        self.out.extend((value >> (count - 1 - i)) & 1 for i in range(count))

    def ue(self, value: int) -> None:
        code = value + 1
        length = code.bit_length()
        self.bits(0, length - 1)
        self.bits(code, length)

    def aligned(self) -> bytes:
        bits = self.out + [0] * (-len(self.out) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))
