"""One camera's loop: check the address, read, publish, report its status, reconnect with backoff.

Each connection is one child process (``devices.ingest.reader``). Before each
one the address is checked again (``devices.addresses``): a name may resolve
elsewhere since it was saved. Only while someone watches the camera (this loop asks
the database every ``WATCH_EVERY`` seconds) does the child send more than a count
of packets: for an H.264 camera and a browser that plays MP4, the packets
themselves, which this loop cuts into MP4 fragments (``devices.fmp4``, no decoding
or re-encoding) and publishes with the current group of pictures kept for joiners
(``GopKeeper``); for other cameras or browsers, JPEG pictures it decodes and encodes.

The camera's status says only which of a few things happened (``STATUS``),
never an error's text: the log has the details, without credentials.

Recording (``devices.extensions.PullRecorder``, registered by ``recordings``): the
loop holds the camera's lease while it reads, so that one process reads a camera
(cameras cap their stream sessions); a camera another process holds is left to it,
and taken over once that lease lapses. With a plan, the child writes files into a
private folder made for each connection; each closed file is handed to the recorder
and removed. Stopping asks the child to close its file in progress first; a folder
left by a killed process is removed when the next worker starts.
"""

import asyncio
import contextlib
import logging
import os
import shutil
import struct
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext_noop

from devices.addresses import AddressNotAllowed, check_address
from devices.extensions import PullRecorder, RecordPlan
from devices.fanout import GopKeeper, publish, publish_status
from devices.fmp4 import CODECS, TIMESCALE, Fragmenter
from devices.ingest.config import IngestConfig
from devices.ingest.reader import (
    JpegFrame,
    Outcome,
    Packet,
    PacketCount,
    ReaderLimits,
    SegmentClosed,
    StreamInfo,
    StreamReader,
)
from devices.ingest.reader_child import RecordJob
from devices.ingest.redaction import redact, scrub
from devices.models import CameraStatus
from devices.selectors import Watching
from devices.status import report_in_scope, watched_in_scope

logger = logging.getLogger("nvr.ingest")

# Stored in English (a worker has no reader to ask); pages translate them when shown
# (devices.status.status_message_text).
STATUS = {
    Outcome.ENDED: gettext_noop("The stream ended"),
    Outcome.UNREACHABLE: gettext_noop("Cannot reach the camera"),
    Outcome.CREDENTIALS: gettext_noop("The camera refused the user name or password"),
    Outcome.UNSUPPORTED: gettext_noop("The camera's stream is not supported"),
    Outcome.NOT_ALLOWED: gettext_noop("This address is not allowed"),
    Outcome.FAILED: gettext_noop("The stream reader stopped"),
    Outcome.STOPPED: gettext_noop("The stream ended"),
}
# How long a stopping camera waits for its reader to end (then the child is killed).
RELEASE_WAIT_SECONDS = 3.0
WATCH_EVERY = 1.0  # seconds between two "is someone watching?" checks

Watched = Callable[[uuid.UUID, uuid.UUID], Awaitable[Watching]]


async def someone_watching(camera_id: uuid.UUID, account_id: uuid.UUID) -> Watching:
    watching: Watching = await database_sync_to_async(watched_in_scope)(camera_id=camera_id, account_id=account_id)
    return watching


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
        recorder: PullRecorder | None = None,
        plan: RecordPlan | None = None,
        holder: str = "",
    ) -> None:
        self.camera_id = camera_id
        self.recorder = recorder
        self.plan = plan
        self.holder = holder or holder_name()
        self.connections = 0
        self.segments_stored = 0
        self.previous_file: tuple[float, datetime] | None = None  # its end: stream time, and when
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
        self.watching = Watching()
        self.stream: StreamInfo | None = None
        self.fragmenter: Fragmenter | None = None  # H.264 cameras only
        self.relay_failed = False
        self.keeper = GopKeeper(camera_id=camera_id, account_id=account_id)
        self.loop = asyncio.get_running_loop()
        self.stopped: asyncio.Task[Any] = self.loop.create_task(stop.wait())

    async def run(self) -> None:
        logger.info("camera %s: reading %s", self.camera_id, self.where)
        try:
            while not self.stop.is_set():
                if not await self.claim():
                    # Another process reads it (and reports its status): wait for its lease to lapse.
                    await asyncio.wait({self.stopped}, timeout=self.lease_retry())
                    continue
                try:
                    outcome = await self.connect_once()
                except _Stopped:
                    break
                if outcome is None:
                    continue  # the lease went to another process: back to waiting for it
                delay = self.next_delay()
                logger.warning("camera %s: %s (%s); reconnecting in %g s", self.camera_id, outcome, self.where, delay)
                await self.report(CameraStatus.ERROR, message=f"{STATUS[outcome]}; retrying in {delay:g} s.")
                await asyncio.wait({self.stopped}, timeout=delay)
            if self.last_status == CameraStatus.ONLINE:
                await self.report(CameraStatus.OFFLINE)  # nobody reads it any more
            logger.info("camera %s: stopped reading %s", self.camera_id, self.where)
        finally:
            self.stopped.cancel()
            await self.release()

    def next_delay(self) -> float:
        delay = min(self.config.backoff_max, self.config.backoff_base * 2.0**self.failures)
        if delay < self.config.backoff_max:
            self.failures += 1
        return delay

    async def connect_once(self) -> Outcome | None:
        """Check the address, then read until the stream ends: how it ended (None: the
        lease was lost to another process)."""
        try:
            address = await self.until_stopped(asyncio.to_thread(check_address, self.url))
        except AddressNotAllowed as refused:
            logger.warning("camera %s: %s refused at connect (%s)", self.camera_id, self.where, refused.reason)
            return Outcome.NOT_ALLOWED
        folder = self.segment_folder() if self.plan is not None else None
        self.previous_file = None
        self.stream, self.fragmenter, self.relay_failed = None, None, False
        self.watching = await self.is_watched(Watching())
        # The codec is not known yet: JPEG for whoever watches, until the stream says it is H.264.
        reader = StreamReader(
            address, self.config, self.limits, decode=self.watching.anyone, record=self.record_job(folder)
        )
        await reader.start()
        watching = self.loop.create_task(self.follow_viewers(reader))
        consuming = self.loop.create_task(self.consume(reader, folder))
        renewing = self.loop.create_task(self.keep_lease())
        replaying = self.loop.create_task(self.keeper.answer_replays())
        try:
            await asyncio.wait({consuming, self.stopped, renewing}, return_when=asyncio.FIRST_COMPLETED)
            if not consuming.done():
                # Stopped, or the lease lost: the child closes its file in progress, which is stored.
                reader.finish()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(consuming), RELEASE_WAIT_SECONDS)
        finally:
            self.keeper.reset()
            for task in (watching, consuming, renewing, replaying):
                task.cancel()
            await asyncio.gather(watching, consuming, renewing, replaying, return_exceptions=True)
            await asyncio.wait_for(reader.stop(), RELEASE_WAIT_SECONDS + 5)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)  # a file the child never closed: lost, never half-stored
        if self.stop.is_set():
            raise _Stopped
        if renewing.done() and not renewing.cancelled():
            logger.warning("camera %s: another process took it over; stopped reading", self.camera_id)
            return None
        outcome = reader.outcome or Outcome.FAILED
        if reader.detail:
            logger.info("camera %s: reader ended: %s (%s)", self.camera_id, outcome, reader.detail)
        return outcome

    # --- The lease and the files -----------------------------------------------------------

    def lease_retry(self) -> float:
        return self.recorder.lease_seconds / 3 if self.recorder is not None else 1.0

    async def claim(self) -> bool:
        if self.recorder is None:
            return True
        try:
            return bool(await database_sync_to_async(self.recorder.claim)(self.camera_id, self.account_id, self.holder))
        except Exception as error:
            logger.warning("camera %s: cannot take its lease: %s", self.camera_id, self.describe(error))
            return False

    async def keep_lease(self) -> None:
        """Renew the lease every third of its length; return once it is lost (or cannot be renewed)."""
        recorder = self.recorder
        if recorder is None:
            await self.stop.wait()  # no lease to keep (not self.stopped: cancelling this would cancel it)
            return
        renew = database_sync_to_async(recorder.renew)
        while True:
            await asyncio.sleep(recorder.lease_seconds / 3)
            try:
                if not await renew(self.camera_id, self.account_id, self.holder):
                    return
            except Exception as error:
                # Not renewed: it may lapse and go to another process. Stop before it can.
                logger.warning("camera %s: cannot renew its lease: %s", self.camera_id, self.describe(error))
                return

    async def release(self) -> None:
        if self.recorder is None:
            return
        try:
            await database_sync_to_async(self.recorder.release)(self.camera_id, self.account_id, self.holder)
        except Exception as error:
            logger.warning("camera %s: cannot release its lease: %s", self.camera_id, self.describe(error))

    def segment_folder(self) -> Path:
        """This connection's private folder for the child's files (this process's id first:
        ``remove_stale_folders`` knows a dead process's folders by it)."""
        self.connections += 1
        root = segments_root(self.config)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = root / f"{os.getpid()}-{self.camera_id.hex}-{self.connections}"
        folder.mkdir(mode=0o700)
        return folder

    def record_job(self, folder: Path | None) -> RecordJob | None:
        plan = self.plan
        if plan is None or folder is None:
            return None
        return {
            "folder": str(folder),
            "seconds": plan.seconds,
            "mode": plan.mode,
            "pre_roll": plan.pre_roll,
            "post_roll": plan.post_roll,
            "sensitivity": plan.sensitivity,
            "min_area_percent": plan.min_area_percent,
        }

    async def store(self, segment: SegmentClosed, folder: Path) -> None:
        path = folder / segment.name  # a checked plain name: inside the folder
        duration = timedelta(seconds=segment.end - segment.start)
        previous = self.previous_file
        if previous is not None and abs(segment.start - previous[0]) < 1e-6:
            started_at = previous[1]  # it follows the previous file: exactly where that one ended
        else:
            # A connection's first file, by this host's clock (the child's); it never ends in the future.
            started_at = min(datetime.fromtimestamp(segment.wall_start, UTC), datetime.now(UTC) - duration)
        self.previous_file = (segment.end, started_at + duration)
        try:
            if self.recorder is not None:
                await database_sync_to_async(self.recorder.store)(
                    self.camera_id, self.account_id, path, started_at, started_at + duration
                )
                self.segments_stored += 1
        except Exception as error:
            logger.error("camera %s: a recorded file could not be stored: %s", self.camera_id, self.describe(error))
        finally:
            path.unlink(missing_ok=True)

    async def until_stopped(self, work: Awaitable[Any]) -> Any:
        """``work``'s result; ``_Stopped`` (and ``work`` cancelled) as soon as the camera is stopped."""
        task = asyncio.ensure_future(work)
        await asyncio.wait({task, self.stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise _Stopped
        return task.result()

    async def is_watched(self, current: Watching) -> Watching:
        try:
            return await self.watched(self.camera_id, self.account_id)
        except Exception as error:
            logger.warning("camera %s: cannot tell whether it is watched: %s", self.camera_id, self.describe(error))
            return current

    async def follow_viewers(self, reader: StreamReader) -> None:
        while True:
            self.watching = await self.is_watched(self.watching)
            await self.serve_viewers(reader)
            await asyncio.sleep(WATCH_EVERY)

    async def serve_viewers(self, reader: StreamReader) -> None:
        """Packets for MP4 viewers of an H.264 camera; decoding for everyone else who watches."""
        watching, codec = self.watching, self.relayed_codec
        relays = watching.relay(codec)
        if relays and not reader.packets:
            assert self.stream is not None
            # Packets start again at a keyframe: a new fragmenter, whose pictures follow on.
            self.fragmenter = Fragmenter(
                codec=codec, extradata=self.stream.extradata, default_duration=self.frame_ticks(self.stream)
            )
        await reader.set_packets(relays)
        await reader.set_decoding(watching.needs_jpeg(codec))

    @staticmethod
    def frame_ticks(stream: StreamInfo) -> int:
        rate = stream.rate if stream.rate and 1 <= stream.rate <= 120 else 15
        return round(TIMESCALE / rate)

    async def consume(self, reader: StreamReader, folder: Path | None = None) -> None:
        report_every = self.config.report_every
        window = next_report = time.monotonic()
        count, received = 0, False
        async for message in reader.messages():
            if isinstance(message, JpegFrame):
                await self.publish(message.data)
                continue
            if isinstance(message, StreamInfo):
                self.stream = message
                await self.serve_viewers(reader)  # now that the codec is known
                continue
            if isinstance(message, Packet) and message.data:
                await self.relay(message)
            if isinstance(message, SegmentClosed):
                if folder is not None:
                    await self.store(message, folder)
                continue
            if not isinstance(message, Packet | PacketCount):
                continue
            now = time.monotonic()
            if not received and isinstance(message, Packet):
                received = True
                self.failures = 0  # a successful read: the next outage starts again at the base delay
                logger.info("camera %s: receiving from %s", self.camera_id, self.where)
                # The rate is measured between packets: from this one on. Shown online soon after.
                window, next_report = now, now + min(1.0, report_every)
                continue
            count += message.packets if isinstance(message, PacketCount) else 1
            if now >= next_report:
                await self.report(CameraStatus.ONLINE, fps=count / (now - window))
                window, count, next_report = now, 0, now + report_every

    async def relay(self, packet: Packet) -> None:
        """One packet to MP4 viewers, as a fragment (the bytes as the camera sent them)."""
        stream, fragmenter = self.stream, self.fragmenter
        if stream is None or fragmenter is None:
            return
        base = stream.time_base
        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None:
            return  # no timestamp: cannot be placed on the timeline

        def ticks(value: int) -> int:
            return value * base.numerator * TIMESCALE // base.denominator

        try:
            fragment = fragmenter.push(
                packet.data,
                dts=ticks(dts),
                pts=None if packet.pts is None else ticks(packet.pts),
                key=packet.keyframe,
            )
            if fragment is not None:
                await self.keeper.publish(fragment)
        except (ValueError, struct.error) as error:  # h264.BadStream, or what slipped past its checks
            # Until the next connection, everyone gets JPEG (the next ``serve_viewers``).
            self.relay_failed = True
            logger.warning("camera %s: cannot relay its stream as MP4 (%s); JPEG instead", self.camera_id, error)
        except Exception as error:
            self.count_publish_error(error)

    @property
    def relayed_codec(self) -> str:
        """The codec this camera's MP4 viewers get ("" until known, or none: JPEG for all)."""
        stream = self.stream
        return stream.codec if stream is not None and stream.codec in CODECS and not self.relay_failed else ""

    async def publish(self, frame: bytes) -> None:
        try:
            # From an H.264 or H.265 camera, JPEG is made only for viewers who cannot play its MP4.
            await publish(
                camera_id=self.camera_id, account_id=self.account_id, frame=frame, fallback=self.relayed_codec
            )
        except Exception as error:
            self.count_publish_error(error)

    def count_publish_error(self, error: Exception) -> None:
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
        if (status == CameraStatus.ONLINE) != (self.last_status == CameraStatus.ONLINE):
            await self.tell_viewers("online" if status == CameraStatus.ONLINE else "offline", message)
        self.last_status = status

    async def tell_viewers(self, state: str, message: str) -> None:
        """Tiles say at once that the camera went online or offline (not at their next poll)."""
        try:
            await publish_status(
                camera_id=self.camera_id, account_id=self.account_id, state=state, message=scrub(message, self.url)
            )
        except Exception as error:
            self.count_publish_error(error)

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
    recorder: PullRecorder | None = None,
    plan: RecordPlan | None = None,
    holder: str = "",
) -> None:
    """Read one camera until ``stop`` is set: publish its frames, report its status.

    ONLINE with the camera's measured frame rate every ``config.report_every``
    seconds while packets arrive; ERROR with one of the ``STATUS`` messages when
    the connection fails or ends, then a reconnection after ``backoff_base``
    seconds, doubling up to ``backoff_max`` and back to the base once a packet
    was read. A camera shown online is shown offline when it stops. With a
    ``recorder``, only while this process holds the camera's lease; with a
    ``plan`` too, the camera is recorded.
    """
    limits = limits or ReaderLimits.from_settings()
    await _CameraRun(
        camera_id, account_id, url, config, stop, limits, watched, recorder=recorder, plan=plan, holder=holder
    ).run()


def holder_name() -> str:
    """This worker's name in the camera leases: its host and pid say where it runs; the
    random part, that a restarted process (same pid) is another holder."""
    return f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def segments_root(config: IngestConfig) -> Path:
    if config.segments_dir:
        return Path(config.segments_dir)
    return Path(tempfile.gettempdir()) / f"nvr-segments-{os.getuid()}"


def remove_stale_folders(config: IngestConfig) -> int:
    """Remove the record folders of processes that are gone (a killed worker's unfinished
    files: never stored, never left). Returns how many went."""
    root = segments_root(config)
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        pid = folder.name.partition("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
