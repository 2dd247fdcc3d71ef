"""A simulated push camera: renders a moving scene and streams it as H.264 or JPEG.

``Scene`` draws a street (sky, buildings, a textured pavement), a bouncing ball,
a car driving by and an overlay with the camera's label and the local time.
The picture is a function of ``t`` (seconds since start) alone, apart from the
clock text, so tests can compare frames.

``push`` connects to ``/ws/device/`` the way a real camera does (its token in an
``Authorization: Bearer`` header, no cookie, no Origin) and sends one binary
message per frame on a monotonic schedule: with ``codec="h264"`` one H.264
access unit (Annex B, SPS and PPS before every IDR, no B-frames; see
``tools.simulator.h264``), with ``codec="jpeg"`` one JPEG. One socket carries
one format, and each connection starts a new encoder, so an H.264 socket
always begins with a keyframe. ``push_forever`` reconnects with exponential
backoff; ``manage.py simulate_camera`` runs either for a set of tokens.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal, NoReturn

import cv2
import numpy as np
import numpy.typing as npt
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tools.simulator.h264 import DEFAULT_KEYFRAME_EVERY, H264Encoder

logger = logging.getLogger("nvr.simulator")

Image = npt.NDArray[np.uint8]
Codec = Literal["h264", "jpeg"]
CODECS: tuple[Codec, ...] = ("h264", "jpeg")

DEFAULT_QUALITY = 80
MIN_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_SECONDS = 10.0  # a connection that lasted this long resets the backoff


class Scene:
    """A street scene of ``width`` x ``height`` pixels (BGR)."""

    def __init__(self, width: int = 1280, height: int = 720, *, label: str = "Camera", seed: int = 0) -> None:
        if width < 16 or height < 16:
            raise ValueError(f"A scene needs at least 16x16 pixels, not {width}x{height}.")
        self.width = width
        self.height = height
        self.label = label
        self.horizon = int(height * 0.55)
        self.road_top = int(height * 0.72)
        self.road_bottom = int(height * 0.92)
        self._sky = self._paint_sky()
        self._background = self._paint_background(np.random.default_rng(seed))
        # Where the sky shows through: the sun passes behind the buildings.
        self._foreground = np.any(self._background != self._sky, axis=2)[:, :, None]

    def _scale(self, fraction: float) -> int:
        return max(1, round(min(self.width, self.height) * fraction))

    def _paint_sky(self) -> Image:
        """A vertical gradient from deep blue to a pale horizon (BGR), and an empty ground."""
        image = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        ramp = np.linspace(0.0, 1.0, self.horizon, dtype=np.float32)[:, None]
        top, bottom = np.array([150, 70, 20], np.float32), np.array([235, 215, 190], np.float32)
        image[: self.horizon] = ((1 - ramp) * top + ramp * bottom)[:, None, :].astype(np.uint8)
        return image

    def _paint_background(self, rng: np.random.Generator) -> Image:
        w, h = self.width, self.height
        image = self._sky.copy()
        # Ground: grass, then the road, then a pavement, all with a grain so they look (and compress) like video.
        image[self.horizon :] = (60, 120, 70)
        image[self.road_top : self.road_bottom] = (70, 70, 72)
        image[self.road_bottom :] = (130, 135, 140)
        grain = rng.normal(0.0, 6.0, (h - self.horizon, w, 1)).astype(np.float32)
        ground = image[self.horizon :].astype(np.float32) + grain
        image[self.horizon :] = np.clip(ground, 0, 255).astype(np.uint8)
        # Lane markings.
        lane_y = (self.road_top + self.road_bottom) // 2
        dash, gap = self._scale(0.08), self._scale(0.06)
        for x in range(0, w, dash + gap):
            cv2.line(image, (x, lane_y), (x + dash, lane_y), (220, 220, 220), self._scale(0.006))
        # Buildings along the horizon, with lit and dark windows.
        x = 0
        while x < w:
            bw = int(rng.integers(self._scale(0.12), self._scale(0.28) + 2))
            bh = int(rng.integers(int(h * 0.18), int(h * 0.45) + 2))
            shade = int(rng.integers(70, 150))
            top_y = self.horizon - bh
            cv2.rectangle(image, (x, top_y), (x + bw, self.horizon), (shade, shade - 10, shade - 25), -1)
            win, step = self._scale(0.018), self._scale(0.045)
            for wy in range(top_y + step // 2, self.horizon - win, step):
                for wx in range(x + step // 3, x + bw - win, step):
                    lit = rng.random() < 0.4
                    colour = (120, 220, 250) if lit else (60, 50, 40)
                    cv2.rectangle(image, (wx, wy), (wx + win, wy + win), colour, -1)
            x += bw + int(rng.integers(0, self._scale(0.03) + 1))
        return image

    def render(self, t: float, *, now: datetime | None = None) -> Image:
        """The frame at ``t`` seconds since start; the overlay shows ``now`` (default: the local time)."""
        w = self.width
        # The sun drifts slowly across the sky, behind the buildings.
        image = self._background.copy()
        sun_x, sun_y, sun_r = int((0.3 + 0.6 * ((t / 120.0) % 1.0)) * w), int(self.horizon * 0.3), self._scale(0.05)
        x0, y0 = max(0, sun_x - sun_r - 1), max(0, sun_y - sun_r - 1)
        x1, y1 = min(w, sun_x + sun_r + 2), min(self.height, sun_y + sun_r + 2)
        sky = self._sky[y0:y1, x0:x1].copy()
        cv2.circle(sky, (sun_x - x0, sun_y - y0), sun_r, (80, 220, 255), -1, cv2.LINE_AA)
        np.copyto(image[y0:y1, x0:x1], sky, where=~self._foreground[y0:y1, x0:x1])
        # A car drives left to right along the road and comes back around.
        car_w, car_h = self._scale(0.22), self._scale(0.08)
        span = w + car_w
        car_x = int((t * w * 0.25) % span) - car_w
        car_y = self.road_top + (self.road_bottom - self.road_top - car_h) // 2
        cv2.rectangle(image, (car_x, car_y), (car_x + car_w, car_y + car_h), (40, 40, 200), -1)
        roof = (car_x + car_w // 5, car_y - car_h // 2, car_x + car_w * 3 // 4, car_y)
        cv2.rectangle(image, roof[:2], roof[2:], (40, 40, 170), -1)
        cv2.rectangle(image, (roof[0] + 3, roof[1] + 3), (roof[2] - 3, roof[3]), (200, 170, 140), -1)
        wheel = max(1, car_h // 3)
        for wx in (car_x + car_w // 5, car_x + car_w * 4 // 5):
            cv2.circle(image, (wx, car_y + car_h), wheel, (20, 20, 20), -1, cv2.LINE_AA)
        # A ball bounces across the grass: a triangle wave sideways, |sin| up and down.
        radius = self._scale(0.04)
        phase = (t * 0.2) % 2.0
        ball_x = radius + int((phase if phase <= 1 else 2 - phase) * (w - 2 * radius))
        floor = self.road_top - self._scale(0.03)  # where the ball touches the grass
        lowest = floor - radius
        ball_y = lowest - int(abs(math.sin(math.pi * t / 1.2)) * (lowest - self.horizon // 2))
        cv2.ellipse(image, (ball_x, floor), (radius, max(1, radius // 4)), 0, 0, 360, (30, 60, 40), -1)
        cv2.circle(image, (ball_x, ball_y), radius, (0, 140, 255), -1, cv2.LINE_AA)
        cv2.circle(image, (ball_x - radius // 3, ball_y - radius // 3), max(1, radius // 4), (170, 220, 255), -1)
        self._overlay(image, (now or datetime.now()).strftime("%Y-%m-%d %H:%M:%S"))
        return image

    def _overlay(self, image: Image, clock: str) -> None:
        font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.3, self.height / 900)
        thickness = max(1, round(scale * 2))
        pad = self._scale(0.015)
        y = pad
        for text in (self.label, clock):
            (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
            cv2.rectangle(image, (pad, y), (pad * 3 + tw, y + th + base + pad), (0, 0, 0), -1)
            cv2.putText(image, text, (pad * 2, y + th + pad // 2), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
            y += th + base + pad * 2


def encode_jpeg(image: Image, quality: int = DEFAULT_QUALITY) -> bytes:
    """``image`` (BGR) as JPEG bytes."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be between 1 and 100, not {quality}.")
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG.")
    return data.tobytes()


class PushError(Exception):
    """The camera's connection failed or ended; ``code`` and ``reason`` say how."""

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class HandshakeRefused(PushError):
    """The server refused the websocket handshake (``code`` is the HTTP status, e.g. 403 for a bad token)."""


class ServerClosed(PushError):
    """The server closed an open connection (``code`` is the websocket close code, e.g. 4429 too fast)."""


class ConnectFailed(PushError):
    """The server could not be reached (refused, timed out, not a websocket endpoint)."""


# The application's close codes (devices.consumers). Daphne does not pass a close
# reason on to the client (django/daphne#374), so the code is all a camera gets.
CLOSE_CODES = {
    1000: "normal closure",
    1001: "server going away",
    1011: "server error",
    4400: "not a JPEG or H.264 frame, a change of format on the socket, or a text message",
    4401: "access ended: token revoked, camera disabled or deleted",
    4409: "a newer connection with this camera's token replaced this one",
    4413: "frame too large",
    4429: "frames sent faster than the server's rate cap",
}


def _closed(error: ConnectionClosed) -> ServerClosed:
    if error.rcvd is None:
        return ServerClosed("The connection was lost without a close frame (code 1006).", code=1006)
    code, reason = error.rcvd.code, error.rcvd.reason
    meaning = CLOSE_CODES.get(code, "unknown code")
    said = f", reason {reason!r}" if reason else ", no reason given"
    return ServerClosed(f"The server closed the connection: code {code} ({meaning}){said}.", code=code, reason=reason)


Frames = Callable[[int], bytes]  # frame slot -> the message for it


def frames_for(
    scene: Scene,
    *,
    fps: float,
    codec: Codec,
    quality: int = DEFAULT_QUALITY,
    bitrate: int | None = None,
    keyframe_every: float = DEFAULT_KEYFRAME_EVERY,
) -> Frames:
    """What one connection sends for each frame slot: a JPEG, or the next access unit of a new H.264 stream.

    Raises ValueError for options the codec cannot honour (an odd size for
    H.264, a quality outside 1-100...), before anything is sent.
    """
    if codec == "jpeg":
        if not 1 <= quality <= 100:
            raise ValueError(f"JPEG quality must be between 1 and 100, not {quality}.")
        return lambda slot: encode_jpeg(scene.render(slot / fps), quality)
    if codec == "h264":
        encoder = H264Encoder(scene.width, scene.height, fps=fps, bitrate=bitrate, keyframe_every=keyframe_every)
        return lambda slot: encoder.encode(scene.render(slot / fps), index=slot)
    raise ValueError(f"The codec must be one of {', '.join(CODECS)}, not {codec!r}.")


async def _stream(
    ws: ClientConnection,
    *,
    fps: float,
    frames: Frames,
    seconds: float | None,
    on_frame: Callable[[int], None] | None,
) -> int:
    start = time.monotonic()
    slot = 0  # frame n is due at start + n / fps: a fixed grid, so pacing does not drift
    sent = 0
    while seconds is None or slot / fps < seconds:
        delay = start + slot / fps - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        # Render off the event loop so several cameras in one process do not delay each other.
        frame = await asyncio.to_thread(frames, slot)
        await ws.send(frame)
        sent += 1
        if on_frame is not None:
            on_frame(sent)
        # The next slot, or after falling behind (slow render, busy machine) the newest one already
        # due: missed slots are skipped, not sent in a burst the server's rate cap would punish.
        slot = max(slot + 1, math.floor((time.monotonic() - start) * fps))
    return sent


async def push(
    url: str,
    token: str,
    *,
    fps: float,
    scene: Scene,
    seconds: float | None = None,
    quality: int = DEFAULT_QUALITY,
    on_frame: Callable[[int], None] | None = None,
    codec: Codec = "jpeg",
    bitrate: int | None = None,
    keyframe_every: float = DEFAULT_KEYFRAME_EVERY,
) -> int:
    """Send ``scene`` to ``url`` as a camera with ``token``, ``fps`` frames a second.

    ``codec`` "jpeg" sends JPEGs of ``quality``; "h264" sends H.264 access
    units at ``bitrate`` bits a second (default: 2 Mbit/s at 1280x720, scaled
    with the pixel count) with a keyframe every ``keyframe_every`` seconds.
    Runs for ``seconds`` (forever if None) and returns the number of frames sent.
    ``on_frame`` is called with that running count after each frame. Raises
    ValueError for options the codec cannot honour (before connecting), and a
    ``PushError`` if the handshake is refused, the server cannot be reached or
    the server closes the connection.
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, not {fps}.")
    frames = frames_for(scene, fps=fps, codec=codec, quality=quality, bitrate=bitrate, keyframe_every=keyframe_every)
    headers = [("Authorization", f"Bearer {token}")]
    try:
        async with connect(url, additional_headers=headers, open_timeout=10) as ws:
            sent = await _stream(ws, fps=fps, frames=frames, seconds=seconds, on_frame=on_frame)
            await ws.close()
            closed = ws.protocol.close_exc
            if closed.rcvd_then_sent:  # the server closed first, e.g. right after the last frame
                raise _closed(closed)
            return sent
    except InvalidStatus as error:
        status = error.response.status_code
        reason = error.response.reason_phrase
        hint = " (a wrong or revoked token, or a disabled or deleted camera)" if status == 403 else ""
        raise HandshakeRefused(
            f"The server refused the camera's connection to {url}: HTTP {status} {reason}{hint}.",
            code=status,
            reason=reason,
        ) from error
    except ConnectionClosed as error:
        raise _closed(error) from error
    except (OSError, TimeoutError, InvalidHandshake) as error:
        raise ConnectFailed(f"Connection to {url} failed: {error or type(error).__name__}.") from error


async def push_forever(
    url: str,
    token: str,
    *,
    fps: float,
    scene: Scene,
    quality: int = DEFAULT_QUALITY,
    on_frame: Callable[[int], None] | None = None,
    min_backoff: float = MIN_BACKOFF,
    max_backoff: float = MAX_BACKOFF,
    codec: Codec = "jpeg",
    bitrate: int | None = None,
    keyframe_every: float = DEFAULT_KEYFRAME_EVERY,
) -> NoReturn:
    """``push`` for ever: after each failure, log it and reconnect after 1 s, 2 s, 4 s ... up to 30 s.

    A connection that stayed up for ``STABLE_SECONDS`` resets the wait to
    ``min_backoff``. Each connection starts a new H.264 stream (a keyframe first).
    Options the codec cannot honour raise ValueError at once (no retry).
    """
    backoff = min_backoff
    while True:
        connected_at: float | None = None

        def counted(n: int) -> None:
            nonlocal connected_at
            if connected_at is None:
                connected_at = time.monotonic()
            if on_frame is not None:
                on_frame(n)

        try:
            await push(
                url,
                token,
                fps=fps,
                scene=scene,
                quality=quality,
                on_frame=counted,
                codec=codec,
                bitrate=bitrate,
                keyframe_every=keyframe_every,
            )
        except PushError as error:
            if connected_at is not None and time.monotonic() - connected_at >= STABLE_SECONDS:
                backoff = min_backoff
            logger.warning("camera %s: %s Reconnecting in %.0f s.", scene.label, error, backoff)
        await asyncio.sleep(backoff)
        backoff = min(max_backoff, backoff * 2)
