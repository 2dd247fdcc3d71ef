"""Browser-playable MP4: the index (``moov``) before the media data (``mdat``).

A browser can start playing an MP4 over HTTP only once it has the ``moov`` box.
Cameras and FFmpeg's default MP4 muxer write it at the end, so the player must
fetch the whole file (or issue a Range request for the tail) before the first
picture. ``ensure_faststart`` moves it to the front by remuxing with PyAV: the
packets are copied as they are (no decoding, no re-encoding), only the container
is rewritten, with FFmpeg's ``movflags=faststart``.

``moov_before_mdat`` and ``top_level_boxes`` read only the box headers (pure
Python, a few reads however large the file).
"""

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from . import reasons
from .results import MAX_HEIGHT, MAX_WIDTH, VideoError

__all__ = ["Box", "Layout", "ensure_faststart", "iter_boxes", "moov_before_mdat", "mp4_layout", "top_level_boxes"]

MAX_BOXES = 10_000  # a real MP4 has a handful of top-level boxes; a file claiming more is not one
# What a household reads; the box's name and offset go to no one (they are the file's raw bytes).
BROKEN = reasons.MP4_BROKEN


@dataclass(frozen=True, slots=True)
class Box:
    """An ISO-BMFF box: its four-character type, where it starts and its whole size (header included)."""

    kind: str
    offset: int
    size: int


def _header(head: bytes, offset: int, end: int, read_large: bytes | None) -> tuple[Box, int]:
    """Decode a box header at ``offset``; returns the box and its header length."""
    size, raw_kind = struct.unpack(">I4s", head)
    kind = raw_kind.decode("latin-1")
    header = 8
    if size == 1:
        if read_large is None or len(read_large) < 8:
            raise BoxError(kind, offset, "cut short")
        (size,) = struct.unpack(">Q", read_large)
        header = 16
    elif size == 0:  # the box extends to the end of the file
        size = end - offset
    if size < header:
        raise BoxError(kind, offset, f"an impossible size {size}")
    if offset + size > end:
        raise BoxError(kind, offset, f"a size {size} past the end", past_end=True)
    return Box(kind, offset, size), header


class BoxError(VideoError):
    """A box header that cannot be right; ``str()`` is the readable ``BROKEN``, ``detail`` is for logs and tests."""

    def __init__(self, kind: str, offset: int, problem: str, *, past_end: bool = False) -> None:
        super().__init__(BROKEN)
        self.detail = f"box {kind.encode('latin-1')!r} at {offset} has {problem}"
        self.box_kind = kind
        self.past_end = past_end


@dataclass(frozen=True, slots=True)
class Layout:
    """The top-level box types in order; ``cut_off`` when the last one runs past the end of the file."""

    kinds: list[str]
    cut_off: bool


def iter_boxes(data: bytes) -> list[Box]:
    """The boxes laid end to end in ``data`` (a file's bytes, or a container box's body)."""
    boxes: list[Box] = []
    offset = 0
    while offset + 8 <= len(data) and len(boxes) < MAX_BOXES:
        box, _ = _header(data[offset : offset + 8], offset, len(data), data[offset + 8 : offset + 16])
        boxes.append(box)
        offset += box.size
    return boxes


def top_level_boxes(path: str | os.PathLike[str]) -> list[Box]:
    """The top-level boxes of the file at ``path``, reading only their headers.

    Raises ``VideoError`` if the headers do not tile the file like an MP4's
    (a size running past the end, trailing garbage shorter than a header is ignored).
    """
    boxes: list[Box] = []
    with open(path, "rb") as file:
        end = os.fstat(file.fileno()).st_size
        offset = 0
        while offset + 8 <= end:
            if len(boxes) >= MAX_BOXES:
                raise VideoError(BROKEN)
            file.seek(offset)
            head = file.read(16)
            box, _ = _header(head[:8], offset, end, head[8:16])
            boxes.append(box)
            offset += box.size
    return boxes


def mp4_layout(path: str | os.PathLike[str]) -> Layout:
    """Like ``top_level_boxes``, but a last box running past the end (a file cut off) is allowed and reported.

    Raises ``VideoError`` (``BROKEN``) for any other impossible header.
    """
    kinds: list[str] = []
    with open(path, "rb") as file:
        end = os.fstat(file.fileno()).st_size
        offset = 0
        while offset + 8 <= end:
            if len(kinds) >= MAX_BOXES:
                raise VideoError(BROKEN)
            file.seek(offset)
            head = file.read(16)
            try:
                box, _ = _header(head[:8], offset, end, head[8:16])
            except BoxError as error:
                if error.past_end and error.box_kind.isprintable() and error.box_kind.isascii():
                    return Layout(kinds=[*kinds, error.box_kind], cut_off=True)
                raise
            kinds.append(box.kind)
            offset += box.size
    return Layout(kinds=kinds, cut_off=False)


def moov_before_mdat(path: str | os.PathLike[str]) -> bool:
    """Whether the file's ``moov`` box comes before its (first) ``mdat`` box.

    True also for a file with a ``moov`` and no ``mdat`` (nothing to fetch
    first). Raises ``VideoError`` when the file is not an MP4 or has no ``moov``.
    """
    kinds = [box.kind for box in top_level_boxes(path)]
    if "moov" not in kinds:
        raise VideoError(reasons.MP4_NO_INDEX)
    return "mdat" not in kinds or kinds.index("moov") < kinds.index("mdat")


def ensure_faststart(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> bool:
    """Write ``src`` to ``dst`` with the index first if it is at the end; returns whether it did.

    Returns False, and writes nothing, when ``src`` already has ``moov`` before
    ``mdat``: keep ``src``. Otherwise remuxes every video and audio stream
    (other streams, such as timecode or data tracks, are dropped) without
    re-encoding, into a temporary file next to ``dst`` that replaces ``dst`` at
    the end. The output format follows ``dst``'s suffix (``.mov``: QuickTime,
    anything else: MP4). Raises ``VideoError`` if ``src`` cannot be read or remuxed.
    """
    src_path, dst_path = Path(src), Path(dst)
    if src_path.resolve() == dst_path.resolve():
        raise ValueError("ensure_faststart needs a destination other than its source")
    if moov_before_mdat(src_path):
        return False
    partial = dst_path.with_name(dst_path.name + ".partial")
    output_format = "mov" if dst_path.suffix.lower() == ".mov" else "mp4"
    try:
        with (
            av.open(os.fspath(src_path), mode="r", format="mov", options={"protocol_whitelist": "file"}) as source,
            av.open(os.fspath(partial), mode="w", format=output_format, options={"movflags": "+faststart"}) as target,
        ):
            streams = [stream for stream in source.streams if isinstance(stream, VideoStream | AudioStream)]
            if not any(isinstance(stream, VideoStream) for stream in streams):
                raise VideoError(reasons.NO_VIDEO_STREAM)
            for stream in streams:
                # Checked here too: remuxing runs before the analysis, and FFmpeg's own
                # failure on an absurd picture size would be no reason a household can read.
                # (FFmpeg reports a size it refuses to believe as 0x0.)
                size_ok = isinstance(stream, AudioStream) or (
                    0 < stream.width <= MAX_WIDTH and 0 < stream.height <= MAX_HEIGHT
                )
                if not size_ok:
                    raise VideoError(reasons.SIZE_OVER, limit=f"{MAX_WIDTH}x{MAX_HEIGHT}")
            mapping = {stream.index: target.add_stream_from_template(stream) for stream in streams}
            for packet in source.demux(streams):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = mapping[packet.stream.index]
                target.mux(packet)
        os.replace(partial, dst_path)
    except av.FFmpegError as error:
        raise VideoError(reasons.MP4_UNREADABLE) from error
    finally:
        partial.unlink(missing_ok=True)
    if not moov_before_mdat(dst_path):  # pragma: no cover - FFmpeg honours movflags
        raise VideoError(reasons.MP4_NOT_MOVED)
    return True
