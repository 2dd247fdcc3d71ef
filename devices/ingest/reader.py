"""Reading one stream in a child process (``reader_child.py``), from the worker's event loop.

The worker holds every household's decrypted addresses and ``NVR_MASTER_KEY``; the
camera's bytes are parsed and decoded elsewhere: in a child started with
``python -I`` (no ``PYTHON*`` variables, no user site), an environment of a few
fixed variables (no key, no database, no secret of any kind), no arguments, and
the address with its password written to its stdin. The child limits its own
address space before it reads the network; this side watches its CPU use and
stops it when it uses more than ``INGEST_READER_MAX_CPU`` of a core over
``INGEST_READER_CPU_WINDOW_S``.

``StreamReader.messages()`` yields what the child sends (``StreamInfo`` once, then
``Packet``s for stream copy and, while ``set_decoding(True)``, ``JpegFrame``s; with a
``record`` job, ``SegmentClosed`` for each file it closed in the job's folder);
``outcome`` then says how it ended, one of a few ``Outcome``s, never error text.
``finish()`` asks the child to close its file in progress and end; the messages up to
its end can still be read.
"""

import asyncio
import contextlib
import enum
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from devices.addresses import CheckedAddress
from devices.ingest import reader_child as protocol
from devices.ingest.config import IngestConfig
from devices.ingest.redaction import redact, scrub

logger = logging.getLogger("nvr.ingest")

CHILD = Path(protocol.__file__)
# All the child's environment: nothing inherited. One malloc arena per... two threads at
# most, so that the address-space limit measures memory rather than reserved arenas.
CHILD_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MALLOC_ARENA_MAX": "2"}
STDERR_LINES = 20  # of the child's stderr (scrubbed) kept for the log


class Outcome(enum.StrEnum):
    ENDED = protocol.ENDED  # the stream ended, or the connection dropped mid-stream
    UNREACHABLE = protocol.UNREACHABLE
    CREDENTIALS = protocol.CREDENTIALS  # RTSP/HTTP 401 or 403
    UNSUPPORTED = protocol.UNSUPPORTED  # no such stream (404), not video we read, bad data
    NOT_ALLOWED = protocol.NOT_ALLOWED  # the address, a redirect, or a protocol outside the whitelist
    FAILED = protocol.FAILED  # the child died, ran out of memory or used too much CPU
    STOPPED = "stopped"  # stopped by this side (the camera was stopped)


@dataclass(frozen=True)
class StreamInfo:
    codec: str
    width: int
    height: int
    time_base: Fraction
    rate: Fraction | None
    extradata: bytes = field(repr=False)


@dataclass(frozen=True)
class Packet:
    """One encoded packet as the camera sent it; timestamps in the stream's ``time_base``."""

    pts: int | None
    dts: int | None
    duration: int
    keyframe: bool
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class JpegFrame:
    pts: int | None
    width: int
    height: int
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class SegmentClosed:
    """A file the child closed in the record folder: its name there (checked), the stretch of
    the stream it holds (stream seconds) and when that started by this host's clock."""

    name: str
    start: float
    end: float
    pictures: int
    wall_start: float


SEGMENT_NAME = re.compile(r"segment-[0-9]{6}\.mp4")


@dataclass(frozen=True)
class PacketCount:
    """How many packets the child read since its last count (when it keeps their bytes)."""

    packets: int


Message = StreamInfo | Packet | JpegFrame | SegmentClosed | PacketCount


class ProtocolError(Exception):
    """The child sent something that is not the protocol: it is stopped."""


def _ts(value: int) -> int | None:
    return None if value == protocol.NO_TS else value


def parse_message(kind: bytes, payload: bytes) -> Message | dict[str, str]:
    """One message of the child (an ``E`` end is returned as its JSON object)."""
    if kind == protocol.PACKET_KIND:
        pts, dts, duration, flags = protocol.PACKET.unpack_from(payload)
        data = payload[protocol.PACKET.size :]
        return Packet(_ts(pts), _ts(dts), duration, bool(flags & protocol.KEY), data)
    if kind == protocol.JPEG_KIND:
        pts, width, height = protocol.JPEG.unpack_from(payload)
        return JpegFrame(_ts(pts), width, height, payload[protocol.JPEG.size :])
    if kind == protocol.STREAM:
        (length,) = protocol.JSON_LENGTH.unpack_from(payload)
        start = protocol.JSON_LENGTH.size
        info = json.loads(payload[start : start + length])
        rate = Fraction(*info["rate"]) if info.get("rate") else None
        return StreamInfo(
            codec=str(info["codec"]),
            width=int(info["width"]),
            height=int(info["height"]),
            time_base=Fraction(*info["time_base"]),
            rate=rate,
            extradata=payload[start + length :],
        )
    if kind == protocol.COUNT:
        (count,) = protocol.COUNT_FORMAT.unpack(payload)
        return PacketCount(count)
    if kind == protocol.SEGMENT:
        info = json.loads(payload)
        name = str(info["name"])
        if not SEGMENT_NAME.fullmatch(name):
            raise ProtocolError("segment name")  # never a path outside the folder
        begins, ends = float(info["start"]), float(info["end"])
        if not math.isfinite(begins) or not math.isfinite(ends) or ends < begins:
            raise ProtocolError("segment times")
        return SegmentClosed(name, begins, ends, int(info["pictures"]), float(info["wall_start"]))
    if kind == protocol.END:
        end = json.loads(payload)
        if not isinstance(end, dict):
            raise ProtocolError("end")
        return {str(key): str(value) for key, value in end.items()}
    raise ProtocolError(f"unknown message kind {kind!r}")


@dataclass(frozen=True)
class ReaderLimits:
    memory_mb: int = 1024
    max_cpu: float = 0.9  # cores, on average over cpu_window
    cpu_window: float = 30.0

    @classmethod
    def from_settings(cls) -> "ReaderLimits":
        from django.conf import settings

        return cls(
            memory_mb=settings.INGEST_READER_MEMORY_MB,
            max_cpu=settings.INGEST_READER_MAX_CPU,
            cpu_window=settings.INGEST_READER_CPU_WINDOW_S,
        )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux ``/proc``), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StreamReader:
    """One child reading one camera. Use as ``async with``; iterate ``messages()`` once."""

    def __init__(
        self,
        address: CheckedAddress,
        config: IngestConfig,
        limits: ReaderLimits,
        *,
        decode: bool = False,
        record: protocol.RecordJob | None = None,
        packets: bool = False,
    ) -> None:
        self.address = address
        self.record = record
        self.packets = packets  # the packets' bytes too (else headers only: enough to count them)
        self.where = redact(address.connect_url)
        self.config = config
        self.limits = limits
        self.decoding = decode
        self.outcome: Outcome | None = None
        self.detail = ""  # for the log: an exception class name, or why the child was stopped
        self.stderr: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"StreamReader({self.where!r})"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def __aenter__(self) -> "StreamReader":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            str(CHILD),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=CHILD_ENV,
            close_fds=True,
            limit=protocol.MAX_MESSAGE,
        )
        job: protocol.Job = {
            "connect_url": self.address.connect_url,
            "host": self.address.host,
            "ip": self.address.ip,
            "port": self.address.port,
            "max_fps": self.config.max_fps,
            "open_timeout": self.config.open_timeout,
            "read_timeout": self.config.read_timeout,
            "memory_mb": self.limits.memory_mb,
            "decode": self.decoding,
            "record": self.record,
            "packets": self.packets,
        }
        await self._send(job)
        self._tasks = [
            asyncio.create_task(self._watch_cpu(), name="reader cpu"),
            asyncio.create_task(self._read_stderr(), name="reader stderr"),
        ]

    async def _send(self, command: object) -> None:
        process = self._process
        assert process is not None
        assert process.stdin is not None
        with contextlib.suppress(ConnectionError, RuntimeError):
            process.stdin.write(json.dumps(command).encode() + b"\n")
            await process.stdin.drain()

    async def set_packets(self, on: bool) -> None:
        """Ask for the packets' bytes (for live MP4; from the last keyframe) or headers only."""
        if on != self.packets:
            self.packets = on
            await self._send({"packets": on})

    async def set_decoding(self, on: bool) -> None:
        """Ask for JPEG frames (someone watches) or for packets only."""
        if on != self.decoding:
            self.decoding = on
            await self._send({"decode": on})

    async def messages(self) -> AsyncIterator[Message]:
        process = self._process
        assert process is not None
        assert process.stdout is not None
        stdout = process.stdout
        while True:
            try:
                header = await stdout.readexactly(protocol.HEADER.size)
                length, kind = protocol.HEADER.unpack(header)
                if length > protocol.MAX_MESSAGE:
                    raise ProtocolError("message too long")
                payload = await stdout.readexactly(length)
                message = parse_message(bytes([kind]), payload)
            except asyncio.IncompleteReadError:
                await self._ended_without_word()
                return
            except (ProtocolError, ValueError, KeyError, TypeError) as error:
                self._finish(Outcome.FAILED, f"protocol error: {type(error).__name__}")
                await self._kill()
                return
            if isinstance(message, dict):
                self._finish(_outcome(message.get("outcome", "")), message.get("detail", ""))
                return
            yield message

    async def _ended_without_word(self) -> None:
        """EOF without an end message: the child died (a signal, the memory limit...)."""
        process = self._process
        assert process is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 5)
        if self.outcome is None:
            code = process.returncode
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            self._finish(Outcome.FAILED, f"the reader died ({how})")

    def _finish(self, outcome: Outcome, detail: str) -> None:
        if self.outcome is None:
            self.outcome, self.detail = outcome, scrub(detail, self.address.connect_url)[:200]

    async def _watch_cpu(self) -> None:
        """Stop the child when it used more than ``max_cpu`` cores over ``cpu_window`` seconds."""
        pid = self.pid
        assert pid is not None
        window = self.limits.cpu_window
        samples: list[tuple[float, float]] = []
        while True:
            await asyncio.sleep(min(1.0, window / 4))
            used = cpu_seconds(pid)
            if used is None:
                return
            now = time.monotonic()
            samples.append((now, used))
            while len(samples) > 1 and samples[1][0] <= now - window:
                samples.pop(0)
            first_at, first_used = samples[0]
            if now - first_at >= window * 0.75 and (used - first_used) / (now - first_at) > self.limits.max_cpu:
                self._finish(Outcome.FAILED, f"used more than {self.limits.max_cpu:g} CPU over {window:g} s")
                await self._kill()
                return

    async def _read_stderr(self) -> None:
        process = self._process
        assert process is not None
        assert process.stderr is not None
        while line := await process.stderr.readline():
            if len(self.stderr) < STDERR_LINES:
                self.stderr.append(scrub(line.decode(errors="replace").rstrip(), self.address.connect_url)[:500])

    async def _kill(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    def finish(self) -> None:
        """Ask the child to end: it closes its file in progress (a last ``SegmentClosed``),
        says so and exits; ``messages()`` reads to that end."""
        process = self._process
        if process is None:
            return
        self._finish(Outcome.STOPPED, "")
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()

    async def stop(self) -> None:
        """End the child (closing its stdin ends it; it is killed if it lingers)."""
        process = self._process
        if process is None:
            return
        self.finish()
        try:
            await asyncio.wait_for(process.wait(), 2)
        except TimeoutError:
            await self._kill()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.stderr:
            logger.info("reader of %s said on stderr:\n%s", self.where, "\n".join(self.stderr))


def _outcome(value: str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        return Outcome.FAILED
