"""The pull ingest worker: the server reads RTSP, HTTP and MJPEG cameras itself.

One process reads every enabled pull camera of every household
(``run_all``, started by ``manage.py ingest_pull_cameras``). Each camera has
its own task (``run_camera``) and its own reading thread: OpenCV's FFmpeg
backend blocks while it waits for the network, so the capture lives in a
single-thread executor of its own, and one slow or stalled camera never holds
a thread another camera needs. Each decoded frame is re-encoded as a JPEG
(at most 1280 pixels wide) and published to the camera's live group exactly as
a push camera's frames are (``devices.fanout.publish``).

A stream address carries the camera's credentials. It is decrypted only here,
and only ``redact(url)`` of it ever reaches a log line or a status message.
"""

import asyncio
import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

import cv2
from channels.db import database_sync_to_async

from accounts.crypto import InvalidToken
from accounts.tenancy import account_scope, unscoped
from devices.fanout import publish
from devices.models import Camera, CameraKind, CameraStatus
from devices.services import camera_source_url, device_report_in_scope

logger = logging.getLogger("nvr.ingest")

__all__ = ["PullReader", "PullSource", "StreamError", "load_pull_sources", "redact", "run_all", "run_camera"]

MAX_WIDTH = 1280
JPEG_QUALITY = 80
DEFAULT_MAX_FPS = 10.0
OPEN_TIMEOUT_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 10.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
REPORT_EVERY_SECONDS = 2.0
# How long a stopping camera waits for its reading thread to let go of the capture.
RELEASE_WAIT_SECONDS = 2.0

CANNOT_OPEN = "Cannot open the stream"
STREAM_ENDED = "The stream ended"
BAD_ADDRESS = "Cannot read the stream address: enter it again"

# Query parameters some cameras take credentials in (``/video.cgi?user=admin&pwd=…``).
SENSITIVE_QUERY_KEYS = frozenset(
    {
        "user",
        "username",
        "usr",
        "login",
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "access_token",
        "auth",
        "key",
        "apikey",
        "api_key",
        "sig",
        "signature",
    }
)
REDACTED = "***"

_T = TypeVar("_T")


# --- Redaction ---------------------------------------------------------------


def _split_authority(url: str) -> tuple[str, str, str]:
    """``(scheme://, userinfo, rest)``: everything up to the last ``@`` before the
    path, query or fragment counts as userinfo (passwords may hold an unencoded ``@``)."""
    start = url.find("//")
    if start < 0:
        return "", "", url
    prefix, rest = url[: start + 2], url[start + 2 :]
    authority_end = len(rest)
    for stop in ("?", "#"):
        at = rest.find(stop)
        if at >= 0:
            authority_end = min(authority_end, at)
    userinfo_end = rest.rfind("@", 0, authority_end)
    if userinfo_end < 0:
        return prefix, "", rest
    return prefix, rest[:userinfo_end], rest[userinfo_end + 1 :]


def _redact_query(rest: str) -> str:
    head, mark, tail = rest.partition("?")
    if not mark:
        return rest
    query, hash_mark, fragment = tail.partition("#")
    pairs = []
    for pair in re.split(r"([&;])", query):
        key, equals, _value = pair.partition("=")
        if equals and unquote(key).strip().lower() in SENSITIVE_QUERY_KEYS:
            pair = f"{key}={REDACTED}"
        pairs.append(pair)
    return f"{head}?{''.join(pairs)}{hash_mark}{fragment}"


def redact(url: str) -> str:
    """The address fit for a log line: no ``user:password@``, no credential in the query.

    ``redact("rtsp://admin:secret@cam.local:554/s") == "rtsp://cam.local:554/s"``
    """
    prefix, _userinfo, rest = _split_authority(url.strip())
    return prefix + _redact_query(rest)


def _secrets(url: str) -> list[str]:
    """The parts of ``url`` that must never be shown, longest first (raw and percent-decoded)."""
    _prefix, userinfo, rest = _split_authority(url.strip())
    found: set[str] = set()
    if userinfo:
        found |= {userinfo, unquote(userinfo)}
        _user, colon, password = userinfo.partition(":")
        if colon and password:
            found |= {password, unquote(password)}
    _head, _mark, query = rest.partition("?")
    for pair in re.split(r"[&;]", query.partition("#")[0]):
        key, equals, value = pair.partition("=")
        if equals and value and unquote(key).strip().lower() in SENSITIVE_QUERY_KEYS:
            found |= {value, unquote(value)}
    return sorted((s for s in found if s), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (an error message, a traceback) with ``url`` redacted and its secrets masked."""
    text = text.replace(url, redact(url))
    for secret in _secrets(url):
        text = text.replace(secret, REDACTED)
    return text


# --- Reading one stream --------------------------------------------------------


class StreamError(Exception):
    """The stream could not be opened (the message holds the redacted address only)."""


class PullReader:
    """One connection to a camera's stream: decoded frames, re-encoded as JPEG, at most ``max_fps`` a second.

    Every method blocks; run them in one thread (see ``run_camera``). ``close()``
    alone may be called from another thread: ``frames()`` then stops after the
    frame it is reading.
    """

    def __init__(
        self,
        url: str,
        *,
        max_fps: float = DEFAULT_MAX_FPS,
        max_width: int = MAX_WIDTH,
        quality: int = JPEG_QUALITY,
        open_timeout: float = OPEN_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        if max_fps <= 0:
            raise ValueError("max_fps must be positive.")
        self._url = url
        self.redacted_url = redact(url)
        self.max_fps = max_fps
        self.max_width = max_width
        self.quality = quality
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self._capture: cv2.VideoCapture | None = None
        self._closing = threading.Event()
        self.frames_sent = 0
        self.frames_skipped = 0

    def __repr__(self) -> str:
        return f"PullReader({self.redacted_url!r}, max_fps={self.max_fps})"

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
            int(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout * 1000),
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
        interval = 1.0 / self.max_fps
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
        if width > self.max_width:
            size = (self.max_width, max(1, round(height * self.max_width / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
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


def _next_frame(frames: Iterator[bytes]) -> bytes | None:
    return next(frames, None)


# --- One camera ----------------------------------------------------------------


class _Stopped(Exception):
    """The camera's stop event was set while waiting."""


class _CameraRun:
    def __init__(
        self,
        camera_id: uuid.UUID,
        account_id: uuid.UUID,
        url: str,
        *,
        max_fps: float,
        stop: asyncio.Event,
        backoff_base: float,
        backoff_max: float,
        report_every: float,
        open_timeout: float,
        read_timeout: float,
    ) -> None:
        self.camera_id = camera_id
        self.account_id = account_id
        self.url = url
        self.where = redact(url)
        self.max_fps = max_fps
        self.stop = stop
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.report_every = report_every
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.failures = 0
        self.last_status: CameraStatus | None = None
        self.publish_errors = 0
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ingest-{camera_id.hex[:8]}")
        self.loop = asyncio.get_running_loop()
        self.stopped: asyncio.Task[Any] = self.loop.create_task(stop.wait())

    async def run(self) -> None:
        logger.info("camera %s: reading %s", self.camera_id, self.where)
        try:
            while not self.stop.is_set():
                try:
                    message = await self.connect_once()
                except _Stopped:
                    break
                delay = self.next_delay()
                logger.warning(
                    "camera %s: %s (%s); reconnecting in %g s", self.camera_id, message.lower(), self.where, delay
                )
                await self.report(CameraStatus.ERROR, message=f"{message}; retrying in {delay:g} s.")
                await asyncio.wait({self.stopped}, timeout=delay)
            if self.last_status == CameraStatus.ONLINE:
                await self.report(CameraStatus.OFFLINE)  # nobody reads it any more
            logger.info("camera %s: stopped reading %s", self.camera_id, self.where)
        finally:
            self.stopped.cancel()
            self.executor.shutdown(wait=False)

    def next_delay(self) -> float:
        delay = min(self.backoff_max, self.backoff_base * 2.0**self.failures)
        if delay < self.backoff_max:
            self.failures += 1
        return delay

    async def connect_once(self) -> str:
        """Open, then publish frames until the stream ends: what went wrong, for the status."""
        reader = PullReader(
            self.url, max_fps=self.max_fps, open_timeout=self.open_timeout, read_timeout=self.read_timeout
        )
        try:
            return await self.read(reader)
        finally:
            reader.close()
            # The reading thread may still be inside grab(): release after it, in that same thread.
            released = self.loop.run_in_executor(self.executor, reader.release)
            await asyncio.wait({released}, timeout=RELEASE_WAIT_SECONDS)

    async def read(self, reader: PullReader) -> str:
        try:
            opened = await self.in_thread(reader.open)
        except _Stopped:
            raise
        except Exception as error:
            logger.warning("camera %s: opening %s failed: %s", self.camera_id, self.where, self.describe(error))
            return CANNOT_OPEN
        if not opened:
            return CANNOT_OPEN
        frames = reader.frames()
        window = next_report = time.monotonic()
        count, received = 0, False
        while True:
            try:
                frame = await self.in_thread(_next_frame, frames)
            except _Stopped:
                raise
            except Exception as error:
                logger.warning("camera %s: reading %s failed: %s", self.camera_id, self.where, self.describe(error))
                frame = None
            if frame is None:
                return STREAM_ENDED
            await self.publish(frame)
            now = time.monotonic()
            if not received:
                received = True
                self.failures = 0  # a successful read: the next outage starts again at the base delay
                logger.info("camera %s: receiving frames from %s", self.camera_id, self.where)
                # The rate is measured between frames: from this one on. Shown online soon after.
                window, next_report = now, now + min(1.0, self.report_every)
                continue
            count += 1
            if now >= next_report:
                await self.report(CameraStatus.ONLINE, fps=count / (now - window))
                window, count, next_report = now, 0, now + self.report_every

    async def in_thread(self, function: Callable[..., _T], *args: Any) -> _T:
        """``function(*args)`` in the camera's thread; ``_Stopped`` as soon as the camera is stopped."""
        if self.stop.is_set():
            raise _Stopped
        future = self.loop.run_in_executor(self.executor, function, *args)
        await asyncio.wait({future, self.stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not future.done():
            # Still blocked in OpenCV: let it finish in its thread (read_timeout bounds it).
            future.add_done_callback(_consume)
            raise _Stopped
        return future.result()

    async def publish(self, frame: bytes) -> None:
        try:
            await publish(camera_id=self.camera_id, account_id=self.account_id, frame=frame)
        except Exception as error:
            self.publish_errors += 1
            if self.publish_errors == 1 or self.publish_errors % 100 == 0:
                logger.warning(
                    "camera %s: cannot publish frames (%d so far): %s",
                    self.camera_id,
                    self.publish_errors,
                    self.describe(error),
                )

    async def report(self, status: CameraStatus, *, fps: float | None = None, message: str = "") -> None:
        try:
            await database_sync_to_async(device_report_in_scope)(
                camera_id=self.camera_id,
                account_id=self.account_id,
                status=status,
                fps=fps,
                message=scrub(message, self.url),
            )
        except Exception as error:
            logger.warning("camera %s: cannot save its status: %s", self.camera_id, self.describe(error))
            return
        self.last_status = status

    def describe(self, error: BaseException) -> str:
        return scrub(f"{type(error).__name__}: {error}", self.url)


def _consume(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()  # retrieved: never "exception was never retrieved"


async def run_camera(
    camera_id: uuid.UUID,
    account_id: uuid.UUID,
    url: str,
    *,
    max_fps: float = DEFAULT_MAX_FPS,
    stop: asyncio.Event,
    backoff_base: float = BACKOFF_BASE_SECONDS,
    backoff_max: float = BACKOFF_MAX_SECONDS,
    report_every: float = REPORT_EVERY_SECONDS,
    open_timeout: float = OPEN_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> None:
    """Read one camera until ``stop`` is set: publish its frames, report its status.

    ONLINE with the measured frame rate every ``report_every`` seconds while
    frames arrive; ERROR ("Cannot open the stream" / "The stream ended") when
    the connection fails, then a reconnection after ``backoff_base`` seconds,
    doubling up to ``backoff_max`` and back to the base once a frame was read.
    A camera shown online is shown offline when it stops.
    """
    if max_fps <= 0 or backoff_base <= 0 or backoff_max < backoff_base:
        raise ValueError("max_fps and backoff_base must be positive, backoff_max at least backoff_base.")
    run = _CameraRun(
        camera_id,
        account_id,
        url,
        max_fps=max_fps,
        stop=stop,
        backoff_base=backoff_base,
        backoff_max=backoff_max,
        report_every=report_every,
        open_timeout=open_timeout,
        read_timeout=read_timeout,
    )
    await run.run()


# --- Every camera ----------------------------------------------------------------


@dataclass(frozen=True)
class PullSource:
    camera_id: uuid.UUID
    account_id: uuid.UUID
    url: str = field(repr=False)  # decrypted, credentials included: never printed


@dataclass(frozen=True)
class PullSources:
    sources: dict[uuid.UUID, PullSource]
    unreadable: dict[uuid.UUID, uuid.UUID]  # camera id -> account id, for addresses that do not decrypt


def load_pull_sources() -> PullSources:
    """Every household's enabled pull cameras, with their decrypted addresses (a system job)."""
    with unscoped("ingest worker: list pull cameras"):
        cameras = list(
            Camera.objects.filter(kind=CameraKind.PULL, enabled=True)
            .exclude(source_url_encrypted="")
            .only("id", "account_id", "source_url_encrypted")
            .order_by("created_at")
        )
    sources: dict[uuid.UUID, PullSource] = {}
    unreadable: dict[uuid.UUID, uuid.UUID] = {}
    for camera in cameras:
        try:
            with account_scope(camera.account_id):
                url = camera_source_url(camera)
        except InvalidToken:
            unreadable[camera.pk] = camera.account_id
            continue
        sources[camera.pk] = PullSource(camera.pk, camera.account_id, url)
    return PullSources(sources, unreadable)


@dataclass
class _Running:
    source: PullSource
    stop: asyncio.Event
    task: "asyncio.Task[None]"


async def run_all(
    *,
    reload_seconds: float = 10,
    max_fps: float = DEFAULT_MAX_FPS,
    stop: asyncio.Event | None = None,
    backoff_base: float = BACKOFF_BASE_SECONDS,
    backoff_max: float = BACKOFF_MAX_SECONDS,
) -> None:
    """Read every enabled pull camera until ``stop`` is set (forever without one).

    Every ``reload_seconds`` the list is read again: new cameras start, and
    cameras removed, disabled or given another address stop (and restart with
    the new one).
    """
    if reload_seconds <= 0 or max_fps <= 0:
        raise ValueError("reload_seconds and max_fps must be positive.")
    stop = stop or asyncio.Event()
    stopped = asyncio.get_running_loop().create_task(stop.wait())
    running: dict[uuid.UUID, _Running] = {}
    reported_unreadable: set[uuid.UUID] = set()
    logger.info("ingest worker: started (at most %g frames a second per camera)", max_fps)
    try:
        while not stop.is_set():
            try:
                loaded: PullSources | None = await database_sync_to_async(load_pull_sources)()
            except Exception as error:
                logger.warning("ingest worker: cannot list the pull cameras, keeping the current ones: %r", error)
                loaded = None
            if loaded is not None:
                await _follow(running, loaded.sources, stop, max_fps, backoff_base, backoff_max)
                await _report_unreadable(loaded.unreadable, reported_unreadable)
            await asyncio.wait({stopped}, timeout=reload_seconds)
    finally:
        stopped.cancel()
        await asyncio.gather(*(_stop(camera_id, entry) for camera_id, entry in running.items()))
        logger.info("ingest worker: stopped")


async def _follow(
    running: dict[uuid.UUID, _Running],
    wanted: dict[uuid.UUID, PullSource],
    stop: asyncio.Event,
    max_fps: float,
    backoff_base: float,
    backoff_max: float,
) -> None:
    ending: dict[uuid.UUID, _Running] = {}
    for camera_id, entry in list(running.items()):
        if entry.task.done():
            _log_crash(camera_id, entry)
            del running[camera_id]
        elif wanted.get(camera_id) != entry.source:
            ending[camera_id] = running.pop(camera_id)
    await asyncio.gather(*(_stop(camera_id, entry) for camera_id, entry in ending.items()))
    for camera_id, source in wanted.items():
        if camera_id in running or stop.is_set():
            continue
        camera_stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(
            run_camera(
                camera_id,
                source.account_id,
                source.url,
                max_fps=max_fps,
                stop=camera_stop,
                backoff_base=backoff_base,
                backoff_max=backoff_max,
            ),
            name=f"ingest {camera_id}",
        )
        running[camera_id] = _Running(source, camera_stop, task)


async def _stop(camera_id: uuid.UUID, entry: _Running) -> None:
    entry.stop.set()
    try:
        await asyncio.wait_for(asyncio.shield(entry.task), RELEASE_WAIT_SECONDS + 10)
    except TimeoutError:
        logger.warning("camera %s: did not stop in time; cancelled", camera_id)
        entry.task.cancel()
    except Exception:
        _log_crash(camera_id, entry)


def _log_crash(camera_id: uuid.UUID, entry: _Running) -> None:
    if entry.task.cancelled():
        return
    error = entry.task.exception()
    if error is not None:
        text = scrub("".join(traceback.format_exception(error)), entry.source.url)
        logger.error("camera %s: its reader failed and restarts at the next reload:\n%s", camera_id, text)


async def _report_unreadable(unreadable: dict[uuid.UUID, uuid.UUID], reported: set[uuid.UUID]) -> None:
    """Say once per camera that its address does not decrypt (another master key?)."""
    for camera_id, account_id in unreadable.items():
        if camera_id in reported:
            continue
        logger.error("camera %s: its stream address cannot be decrypted (was NVR_MASTER_KEY changed?)", camera_id)
        try:
            await database_sync_to_async(device_report_in_scope)(
                camera_id=camera_id, account_id=account_id, status=CameraStatus.ERROR, message=BAD_ADDRESS
            )
        except Exception as error:
            logger.warning("camera %s: cannot save its status: %r", camera_id, error)
            continue
        reported.add(camera_id)
    reported &= set(unreadable)
