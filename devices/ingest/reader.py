"""Reading one stream: OpenCV's FFmpeg backend, frames re-encoded as JPEG."""

import threading
import time
from collections.abc import Iterator

import cv2

from devices.ingest.config import IngestConfig
from devices.ingest.redaction import redact

MAX_WIDTH = 1280
JPEG_QUALITY = 80

CANNOT_OPEN = "Cannot open the stream"


class StreamError(Exception):
    """The stream could not be opened (the message holds the redacted address only)."""


class PullReader:
    """One connection to a camera's stream: decoded frames, re-encoded as JPEG (at most
    ``MAX_WIDTH`` pixels wide), at most ``config.max_fps`` a second.

    Every method blocks; run them in one thread (see ``devices.ingest.worker``).
    ``close()`` alone may be called from another thread: ``frames()`` then stops
    after the frame it is reading.
    """

    def __init__(self, url: str, config: IngestConfig) -> None:
        self._url = url
        self.redacted_url = redact(url)
        self.config = config
        self._capture: cv2.VideoCapture | None = None
        self._closing = threading.Event()
        self.frames_sent = 0
        self.frames_skipped = 0

    def __repr__(self) -> str:
        return f"PullReader({self.redacted_url!r}, max_fps={self.config.max_fps})"

    def __enter__(self) -> "PullReader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def open(self) -> bool:
        """Connect; False when the stream cannot be opened (or within ``open_timeout``)."""
        if self._capture is not None:
            return True
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.config.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.config.read_timeout * 1000),
        ]
        capture = cv2.VideoCapture(self._url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            return False
        self._capture = capture
        return True

    def frames(self) -> Iterator[bytes]:
        """JPEG frames until the stream ends (or ``close()``), paced to at most ``max_fps``.

        A source faster than ``max_fps`` has its extra frames grabbed and
        dropped undecoded-to-JPEG, so a live stream never falls behind.
        """
        if not self.open():
            raise StreamError(f"{CANNOT_OPEN}: {self.redacted_url}")
        capture = self._capture
        assert capture is not None
        interval = 1.0 / self.config.max_fps
        due: float | None = None
        while not self._closing.is_set():
            if not capture.grab():
                return
            now = time.monotonic()
            if due is not None and now < due:
                self.frames_skipped += 1
                continue
            ok, image = capture.retrieve()
            if not ok or image is None:
                return
            # Keep the cadence (``max_fps`` on average even when frames arrive late),
            # but never two frames closer than half an interval.
            due = now + interval if due is None else max(due + interval, now + interval / 2)
            self.frames_sent += 1
            yield self.encode(image)

    def encode(self, image: cv2.typing.MatLike) -> bytes:
        height, width = image.shape[:2]
        if width > MAX_WIDTH:
            size = (MAX_WIDTH, max(1, round(height * MAX_WIDTH / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise StreamError("Cannot encode a frame as JPEG.")
        return data.tobytes()

    def close(self) -> None:
        """Ask ``frames()`` to stop (thread-safe; ``release()`` frees the capture)."""
        self._closing.set()

    def release(self) -> None:
        self._closing.set()
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


def next_frame(frames: Iterator[bytes]) -> bytes | None:
    """The next frame, or None once the stream ended (for the camera's thread)."""
    return next(frames, None)
