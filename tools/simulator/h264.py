"""H.264 for the simulated push camera: one Annex B access unit per frame, as the device protocol wants.

The device websocket takes, on an H.264 socket, one binary message per access
unit (one coded picture): NAL units each after a start code (``00 00 00 01``),
in decode order with no B-frames (so display order is decode order and the
server can stamp each picture with its arrival time), every keyframe (IDR)
carrying its SPS and PPS, a keyframe at least every 2 s.

``H264Encoder`` makes that stream from the BGR pictures ``Scene.render`` gives,
with PyAV's bundled libx264: yuv420p (BT.601, limited range, as OpenCV
converts and as the stream's VUI says), ``tune=zerolatency`` (no lookahead, no
frame threads: each picture comes out as it goes in), no B-frames, headers
repeated before every IDR, no scene-cut keyframes, and a keyframe every
``keyframe_every`` seconds exactly, counted on the frame slots (a skipped slot
still counts, so a camera that falls behind still sends a keyframe in time).
Rate control is an average bitrate with a one-second VBV buffer, so a keyframe
stays far below the server's frame-size cap.

``solid_colour_access_units`` is the picture of known content for tests: a
stream of one colour, so a test can check the colour a viewer shows.
``nal_unit_types`` lists the NAL unit types of an access unit.
"""

import fractions
import math
from typing import cast

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.frame import PictureType

Image = npt.NDArray[np.uint8]  # a BGR picture, as tools.simulator.stream.Scene renders it

DEFAULT_KEYFRAME_EVERY = 2.0  # seconds; the device protocol's longest keyframe interval
REFERENCE_SIZE = (1280, 720)
REFERENCE_BITRATE = 2_000_000  # bits a second at REFERENCE_SIZE; other sizes scale with the pixel count
MIN_BITRATE = 50_000
MAX_BITRATE = 20_000_000
MAX_VBV_BUFFER = 4_000_000  # bits: no access unit much over 500 kB, half the server's default cap of 1 MB
DEFAULT_PRESET = "veryfast"

START_CODE = b"\x00\x00\x00\x01"
NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9


class H264Error(Exception):
    """The encoder did not give one access unit for a picture (never expected with ``tune=zerolatency``)."""


def default_bitrate(width: int, height: int) -> int:
    """The target in bits a second: 2 Mbit/s at 1280x720, scaled with the pixel count (50 kbit/s to 20 Mbit/s)."""
    reference = REFERENCE_SIZE[0] * REFERENCE_SIZE[1]
    return min(MAX_BITRATE, max(MIN_BITRATE, round(REFERENCE_BITRATE * width * height / reference)))


def keyframe_interval(fps: float, keyframe_every: float) -> int:
    """Frames from one keyframe to the next: the most that fit in ``keyframe_every`` seconds, at least 1."""
    return max(1, math.floor(keyframe_every * fps + 1e-9))


def check_size(width: int, height: int) -> None:
    """Refuse a size yuv420p cannot hold: 4:2:0 halves both sides, so both must be even."""
    if width % 2 or height % 2:
        raise ValueError(f"H.264 (yuv420p) needs an even width and height, not {width}x{height}.")


class H264Encoder:
    """Turns BGR pictures of ``width`` x ``height`` into H.264 access units, one per picture.

    ``fps`` is the camera's constant frame rate; ``bitrate`` its target in bits a
    second (default ``default_bitrate``); ``keyframe_every`` seconds from one
    IDR to the next. ``threads`` is libx264's thread count (sliced threads,
    which add no delay); 1 leaves the other cores to the other cameras.
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        fps: float,
        bitrate: int | None = None,
        keyframe_every: float = DEFAULT_KEYFRAME_EVERY,
        preset: str = DEFAULT_PRESET,
        threads: int = 1,
    ) -> None:
        check_size(width, height)
        if not fps > 0:
            raise ValueError(f"fps must be positive, not {fps}.")
        if not keyframe_every > 0:
            raise ValueError(f"The keyframe interval must be positive, not {keyframe_every} s.")
        bitrate = default_bitrate(width, height) if bitrate is None else bitrate
        if not MIN_BITRATE <= bitrate <= MAX_BITRATE:
            raise ValueError(f"The bitrate must be between {MIN_BITRATE} and {MAX_BITRATE} bit/s, not {bitrate}.")
        self.width = width
        self.height = height
        self.fps = fps
        self.bitrate = bitrate
        self.keyframe_every = keyframe_every
        self.keyint = keyframe_interval(fps, keyframe_every)
        self.frames = 0  # access units made so far
        self._next_index = 0
        self._last_keyframe: int | None = None
        rate = fractions.Fraction(fps).limit_denominator(1001)
        kbits = bitrate // 1000
        buffer = min(bitrate, MAX_VBV_BUFFER) // 1000
        context = av.CodecContext.create("libx264", "w")
        context.width, context.height, context.pix_fmt = width, height, "yuv420p"
        context.framerate = rate
        context.time_base = 1 / rate
        context.bit_rate = bitrate
        context.gop_size = self.keyint
        context.max_b_frames = 0
        params = [
            "repeat-headers=1",  # SPS and PPS before every IDR: a viewer can start at any keyframe
            "annexb=1",  # start codes, not length prefixes
            "bframes=0",
            f"keyint={self.keyint}",
            f"min-keyint={self.keyint}",
            "scenecut=0",  # keyframes on the interval only, never at a scene cut
            f"vbv-maxrate={kbits}",
            f"vbv-bufsize={buffer}",
            "colormatrix=smpte170m",  # what cv2.COLOR_BGR2YUV_I420 computes (BT.601, limited range)
            "range=tv",
        ]
        context.options = {
            "preset": preset,
            "tune": "zerolatency",
            "forced-idr": "1",  # a picture forced to I (see encode) is an IDR
            "threads": str(threads),
            "x264-params": ":".join(params),
        }
        context.open()
        self._context = context

    def encode(self, image: Image, *, index: int | None = None) -> bytes:
        """The access unit for ``image``, the picture of frame slot ``index`` (default: the next slot).

        Slots count from 0 at ``fps`` a second and must increase; a camera that
        skipped slots passes the slot it is at, so keyframes stay
        ``keyframe_every`` seconds apart in time, not in pictures sent.
        """
        if image.shape != (self.height, self.width, 3):
            raise ValueError(f"Expected a {self.width}x{self.height} BGR picture, got an array of {image.shape}.")
        index = self._next_index if index is None else index
        if index < self._next_index:
            raise ValueError(f"Frame slots must increase: {index} after {self._next_index - 1}.")
        planes = cast(Image, cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420))
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts, frame.time_base = index, self._context.time_base
        if self._last_keyframe is None or index - self._last_keyframe >= self.keyint:
            frame.pict_type = PictureType.I
            self._last_keyframe = index
        packets = self._context.encode(frame)
        if len(packets) != 1:
            raise H264Error(f"libx264 gave {len(packets)} packets for one picture; expected one (zerolatency).")
        [packet] = packets
        if packet.is_keyframe != (frame.pict_type == PictureType.I):
            raise H264Error(f"libx264 did not put its keyframe where asked (slot {index}).")
        self._next_index = index + 1
        self.frames += 1
        return bytes(packet)

    def close(self) -> None:
        """Flush the encoder (nothing is left in it: every picture already came out)."""
        self._context.encode(None)


def split_nal_units(access_unit: bytes) -> list[bytes]:
    """The NAL units of an Annex B ``access_unit`` (3- or 4-byte start codes), without their start codes."""
    units: list[bytes] = []
    starts: list[int] = []
    at = access_unit.find(b"\x00\x00\x01")
    while at != -1:
        starts.append(at + 3)
        at = access_unit.find(b"\x00\x00\x01", at + 3)
    for n, begin in enumerate(starts):
        end = starts[n + 1] - 3 if n + 1 < len(starts) else len(access_unit)
        unit = access_unit[begin:end]
        if n + 1 < len(starts):
            unit = unit.rstrip(b"\x00")  # a 4-byte start code's leading zero (and trailing zero bytes)
        units.append(unit)
    return units


def nal_unit_types(access_unit: bytes) -> list[int]:
    """The ``nal_unit_type`` of each NAL unit in ``access_unit``, in order (7 SPS, 8 PPS, 5 IDR, 1 slice...)."""
    return [unit[0] & 0x1F for unit in split_nal_units(access_unit) if unit]


def solid_colour_access_units(
    width: int,
    height: int,
    fps: float,
    seconds: float,
    colour_bgr: tuple[int, int, int],
    keyframe_every: float = DEFAULT_KEYFRAME_EVERY,
) -> list[bytes]:
    """``seconds`` of a picture of one colour (B, G, R), as the access units a camera would send.

    The first is an IDR with its SPS and PPS, and another comes every
    ``keyframe_every`` seconds. Decoded (BT.601, limited range) the picture is
    ``colour_bgr`` within a few levels.
    """
    encoder = H264Encoder(width, height, fps=fps, keyframe_every=keyframe_every)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = colour_bgr
    try:
        return [encoder.encode(image) for _ in range(max(1, round(seconds * fps)))]
    finally:
        encoder.close()
