"""One camera's loop: read, publish, report its status, reconnect with backoff.

OpenCV's FFmpeg backend blocks while it waits for the network, so each camera
reads in a single-thread executor of its own: one slow or stalled camera never
holds a thread another camera needs. The loop itself runs on the event loop
and stops as soon as its ``stop`` event is set, even while OpenCV still blocks.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.db import database_sync_to_async

from devices.fanout import publish
from devices.ingest.config import IngestConfig
from devices.ingest.reader import CANNOT_OPEN, PullReader, next_frame
from devices.ingest.redaction import redact, scrub
from devices.models import CameraStatus
from devices.status import report_in_scope

logger = logging.getLogger("nvr.ingest")

STREAM_ENDED = "The stream ended"
# How long a stopping camera waits for its reading thread to let go of the capture.
RELEASE_WAIT_SECONDS = 2.0

_T = TypeVar("_T")


class _Stopped(Exception):
    """The camera's stop event was set while waiting."""


class _CameraRun:
    def __init__(
        self, camera_id: uuid.UUID, account_id: uuid.UUID, url: str, config: IngestConfig, stop: asyncio.Event
    ) -> None:
        self.camera_id = camera_id
        self.account_id = account_id
        self.url = url
        self.where = redact(url)
        self.config = config
        self.stop = stop
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
        delay = min(self.config.backoff_max, self.config.backoff_base * 2.0**self.failures)
        if delay < self.config.backoff_max:
            self.failures += 1
        return delay

    async def connect_once(self) -> str:
        """Open, then publish frames until the stream ends: what went wrong, for the status."""
        reader = PullReader(self.url, self.config)
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
        report_every = self.config.report_every
        window = next_report = time.monotonic()
        count, received = 0, False
        while True:
            try:
                frame = await self.in_thread(next_frame, frames)
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
                window, next_report = now, now + min(1.0, report_every)
                continue
            count += 1
            if now >= next_report:
                await self.report(CameraStatus.ONLINE, fps=count / (now - window))
                window, count, next_report = now, 0, now + report_every

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
            await database_sync_to_async(report_in_scope)(
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
    camera_id: uuid.UUID, account_id: uuid.UUID, url: str, *, config: IngestConfig, stop: asyncio.Event
) -> None:
    """Read one camera until ``stop`` is set: publish its frames, report its status.

    ONLINE with the measured frame rate every ``config.report_every`` seconds
    while frames arrive; ERROR ("Cannot open the stream" / "The stream ended")
    when the connection fails, then a reconnection after ``backoff_base``
    seconds, doubling up to ``backoff_max`` and back to the base once a frame
    was read. A camera shown online is shown offline when it stops.
    """
    await _CameraRun(camera_id, account_id, url, config, stop).run()
