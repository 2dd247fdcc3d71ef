"""What a clip is: duration, frame rate, size, codec, read with OpenCV's FFmpeg backend.

The container's claims are checked *before* any frame is decoded: a file that
says it is 20000 x 20000 pixels is refused on its header, not after the decoder
has tried to allocate the frame. Run this on untrusted files only inside the
isolated worker (``isolate.py``): FFmpeg parses the container while opening it.
"""

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager

import cv2

from . import reasons
from .results import MAX_HEIGHT, MAX_WIDTH, ClipInfo, VideoError

__all__ = ["MAX_HEIGHT", "MAX_WIDTH", "SAFE_CAPTURE_OPTIONS", "ClipInfo", "VideoError", "open_clip", "probe"]

MAX_FPS = 240.0

# FFmpeg picks a demuxer by content, not by name: a ".mp4" that is really an HLS
# playlist makes it open the files or URLs listed inside (server-side request
# forgery, local file disclosure through the poster). OpenCV reads these options
# from the environment at every open; the isolated worker sets them, so only
# local files in the MP4/QuickTime or Matroska/WebM containers are read.
SAFE_CAPTURE_OPTIONS = "protocol_whitelist;file|format_whitelist;mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
CAPTURE_OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"


def _fourcc(value: float) -> str:
    """OpenCV's FOURCC number as text ("h264", "hevc", "avc1"), "" when unknown."""
    try:
        raw = int(value).to_bytes(4, "little")
    except (OverflowError, ValueError):
        return ""
    return "".join(chr(byte) for byte in raw if 32 < byte < 127).strip()


@contextmanager
def open_clip(path: str | os.PathLike[str]) -> Iterator[tuple[cv2.VideoCapture, ClipInfo]]:
    """Open ``path`` with OpenCV and check what it claims; no frame is decoded yet.

    Yields the capture and the ``ClipInfo``; releases the capture on exit.
    Raises ``VideoError`` for a file OpenCV cannot open, one with no video or
    no frames, no frame rate, or dimensions over ``MAX_WIDTH`` x ``MAX_HEIGHT``.
    """
    if not os.path.isfile(path):
        raise VideoError(reasons.NO_FILE)
    capture = cv2.VideoCapture(os.fspath(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise VideoError(reasons.NOT_OPENABLE)
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width <= 0 or height <= 0:
            raise VideoError(reasons.NO_PICTURE_SIZE)
        if width > MAX_WIDTH or height > MAX_HEIGHT:
            raise VideoError(
                reasons.DIMENSIONS_OVER, width=str(width), height=str(height), limit=f"{MAX_WIDTH}x{MAX_HEIGHT}"
            )
        fps = capture.get(cv2.CAP_PROP_FPS)
        if not math.isfinite(fps) or not 0 < fps <= MAX_FPS:
            raise VideoError(reasons.NO_FRAME_RATE, fps=f"{fps:g}")
        frames = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        frame_count = int(frames) if math.isfinite(frames) else 0
        if frame_count <= 0:
            raise VideoError(reasons.NO_FRAMES)
        codec = _fourcc(capture.get(cv2.CAP_PROP_FOURCC))
        info = ClipInfo(
            duration_s=frame_count / fps, fps=fps, width=width, height=height, codec=codec, frame_count=frame_count
        )
        yield capture, info
    finally:
        capture.release()


def probe(path: str | os.PathLike[str]) -> ClipInfo:
    """The clip's ``ClipInfo``, once its header passed the checks and its first frame decodes.

    ``duration_s`` is ``frame_count / fps``; ``codec`` is OpenCV's FOURCC as
    text (``"h264"`` for H.264 read by FFmpeg). Raises ``VideoError`` with a
    readable reason otherwise.
    """
    with open_clip(path) as (capture, info):
        if not capture.grab():
            raise VideoError(reasons.FIRST_FRAME)
        return info
