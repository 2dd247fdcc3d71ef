"""One camera's loop: check the address, read, publish, report its status, reconnect with backoff.

Each connection is one child process (``devices.ingest.reader``). Before each
one the address is checked again (``devices.addresses``): a name may resolve
elsewhere since it was saved. The child sends the camera's packets; it decodes
(JPEG for live viewers) only while someone watches the camera, which this loop
asks the database every ``WATCH_EVERY`` seconds.

The camera's status says only which of a few things happened (``STATUS``),
never an error's text: the log has the details, without credentials.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

from devices.addresses import AddressNotAllowed, check_address
from devices.fanout import publish
from devices.ingest.config import IngestConfig
from devices.ingest.reader import JpegFrame, Outcome, Packet, ReaderLimits, StreamReader
from devices.ingest.redaction import redact, scrub
from devices.models import CameraStatus
from devices.status import report_in_scope, watched_in_scope

logger = logging.getLogger("nvr.ingest")

STATUS = {
    Outcome.ENDED: "The stream ended",
    Outcome.UNREACHABLE: "Cannot reach the camera",
    Outcome.CREDENTIALS: "The camera refused the user name or password",
    Outcome.UNSUPPORTED: "The camera's stream is not supported",
    Outcome.NOT_ALLOWED: "This address is not allowed",
    Outcome.FAILED: "The stream reader stopped",
    Outcome.STOPPED: "The stream ended",
}
# How long a stopping camera waits for its reader to end (then the child is killed).
RELEASE_WAIT_SECONDS = 3.0
WATCH_EVERY = 1.0  # seconds between two "is someone watching?" checks

Watched = Callable[[uuid.UUID, uuid.UUID], Awaitable[bool]]


async def someone_watching(camera_id: uuid.UUID, account_id: uuid.UUID) -> bool:
    return bool(await database_sync_to_async(watched_in_scope)(camera_id=camera_id, account_id=account_id))


class _Stopped(Exception):
    """The camera's stop event was set while waiting."""


class _CameraRun:
    def __init__(
        self,
        camera_id: uuid.UUID,
        account_id: uuid.UUID,
        url: str,
        config: IngestConfig,
        stop: asyncio.Event,
        limits: ReaderLimits,
        watched: Watched,
    ) -> None:
        self.camera_id = camera_id
        self.account_id = account_id
        self.url = url
        self.where = redact(url)
        self.config = config
        self.limits = limits
        self.watched = watched
        self.stop = stop
        self.failures = 0
        self.last_status: CameraStatus | None = None
        self.publish_errors = 0
        self.loop = asyncio.get_running_loop()
        self.stopped: asyncio.Task[Any] = self.loop.create_task(stop.wait())

    async def run(self) -> None:
        logger.info("camera %s: reading %s", self.camera_id, self.where)
        try:
            while not self.stop.is_set():
                try:
                    outcome = await self.connect_once()
                except _Stopped:
                    break
                delay = self.next_delay()
                logger.warning("camera %s: %s (%s); reconnecting in %g s", self.camera_id, outcome, self.where, delay)
                await self.report(CameraStatus.ERROR, message=f"{STATUS[outcome]}; retrying in {delay:g} s.")
                await asyncio.wait({self.stopped}, timeout=delay)
            if self.last_status == CameraStatus.ONLINE:
                await self.report(CameraStatus.OFFLINE)  # nobody reads it any more
            logger.info("camera %s: stopped reading %s", self.camera_id, self.where)
        finally:
            self.stopped.cancel()

    def next_delay(self) -> float:
        delay = min(self.config.backoff_max, self.config.backoff_base * 2.0**self.failures)
        if delay < self.config.backoff_max:
            self.failures += 1
        return delay

    async def connect_once(self) -> Outcome:
        """Check the address, then read until the stream ends: how it ended."""
        try:
            address = await self.until_stopped(asyncio.to_thread(check_address, self.url))
        except AddressNotAllowed as refused:
            logger.warning("camera %s: %s refused at connect (%s)", self.camera_id, self.where, refused.reason)
            return Outcome.NOT_ALLOWED
        reader = StreamReader(address, self.config, self.limits, decode=await self.is_watched(False))
        await reader.start()
        watching = self.loop.create_task(self.follow_viewers(reader))
        try:
            await self.until_stopped(self.consume(reader))
        finally:
            watching.cancel()
            await asyncio.wait_for(reader.stop(), RELEASE_WAIT_SECONDS + 5)
        outcome = reader.outcome or Outcome.FAILED
        if reader.detail:
            logger.info("camera %s: reader ended: %s (%s)", self.camera_id, outcome, reader.detail)
        return outcome

    async def until_stopped(self, work: Awaitable[Any]) -> Any:
        """``work``'s result; ``_Stopped`` (and ``work`` cancelled) as soon as the camera is stopped."""
        task = asyncio.ensure_future(work)
        await asyncio.wait({task, self.stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise _Stopped
        return task.result()

    async def is_watched(self, current: bool) -> bool:
        try:
            return await self.watched(self.camera_id, self.account_id)
        except Exception as error:
            logger.warning("camera %s: cannot tell whether it is watched: %s", self.camera_id, self.describe(error))
            return current

    async def follow_viewers(self, reader: StreamReader) -> None:
        """Decoding on while someone watches, off otherwise."""
        while True:
            await reader.set_decoding(await self.is_watched(reader.decoding))
            await asyncio.sleep(WATCH_EVERY)

    async def consume(self, reader: StreamReader) -> None:
        report_every = self.config.report_every
        window = next_report = time.monotonic()
        count, received = 0, False
        async for message in reader.messages():
            if isinstance(message, JpegFrame):
                await self.publish(message.data)
                continue
            if not isinstance(message, Packet):
                continue
            now = time.monotonic()
            if not received:
                received = True
                self.failures = 0  # a successful read: the next outage starts again at the base delay
                logger.info("camera %s: receiving from %s", self.camera_id, self.where)
                # The rate is measured between packets: from this one on. Shown online soon after.
                window, next_report = now, now + min(1.0, report_every)
                continue
            count += 1
            if now >= next_report:
                await self.report(CameraStatus.ONLINE, fps=count / (now - window))
                window, count, next_report = now, 0, now + report_every

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


async def run_camera(
    camera_id: uuid.UUID,
    account_id: uuid.UUID,
    url: str,
    *,
    config: IngestConfig,
    stop: asyncio.Event,
    limits: ReaderLimits | None = None,
    watched: Watched = someone_watching,
) -> None:
    """Read one camera until ``stop`` is set: publish its frames, report its status.

    ONLINE with the camera's measured frame rate every ``config.report_every``
    seconds while packets arrive; ERROR with one of the ``STATUS`` messages when
    the connection fails or ends, then a reconnection after ``backoff_base``
    seconds, doubling up to ``backoff_max`` and back to the base once a packet
    was read. A camera shown online is shown offline when it stops.
    """
    limits = limits or ReaderLimits.from_settings()
    await _CameraRun(camera_id, account_id, url, config, stop, limits, watched).run()
