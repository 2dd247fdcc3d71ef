"""Live fan-out benchmark: one camera pushing JPEG or H.264 into the NVR, N viewers watching.

    .venv/bin/python bench/live_fanout.py [--viewers 1,10,50] [--seconds 10] [--fps 15] [--path jpeg,h264]
        [--layer memory|redis] [--reader-seconds 10]

Sets up a throwaway site (a temporary NVR_DATA_DIR with SQLite, ``manage.py
migrate``, two households with a push camera each, signed-in sessions: see
``bench/nvr_setup.py``), starts daphne on it and, beside it, the bare
``websockets`` relay of ``bench/bare_relay.py``. The pictures are made before
anything is measured (``bench/live_media.py``): a 1280x720 street scene rendered
once per frame slot, encoded as JPEG (quality 80) and as H.264 (about 2 Mbit/s, a
keyframe every 2 s). Then, for each N and each path (``jpeg``: the camera sends
JPEGs, viewers get JPEGs; ``h264``: the camera sends H.264 access units, viewers
ask for ``?format=mp4`` and get fragmented MP4), the same client process drives
both servers in turn with the same bytes: a publisher for household A's camera, N
viewers of it, and 2 viewers of household B's camera who must receive nothing.
Prints one JSON line per N on stdout, then one for the sustained rate at 10
viewers, then one for the pull cameras' reader children (``bench/live_readers.py``);
progress goes to stderr. See ``bench/README.md`` for what each figure means.
"""

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import psutil  # type: ignore[import-untyped]  # no stubs installed
from live_media import Media, annexb_pictures, clip_loops, make_media, mp4_pictures, write_clip
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

from devices.h264 import BadStream

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
REDIS_URL = "redis://127.0.0.1:6379/0"
WARMUP_SECONDS = 2.0
SUSTAINED = {"viewers": 10, "fps": 200.0, "warmup": 1.0, "seconds": 5.0}
JPEG, H264 = "jpeg", "h264"
PATHS = (JPEG, H264)
CYCLE_SECONDS = 16  # pictures made before measuring, sent in a loop (a whole number of 2 s groups of pictures)
GOALS = {"bytes_vs_stream": 1.1, "latency_p99_vs_bare": 2.0, "web_cpu_h264_vs_jpeg": 0.5}
OTHER_VIEWERS = 2  # household B's viewers, who must receive nothing of camera A
CREDITS = 2  # frames a viewer may have unacknowledged, on both servers
MP4_ACK_BATCH = 4  # the NVR's MP4 viewers ack this many messages at once (static/js/live.js)
# Variables of the caller's shell that would point the throwaway site elsewhere.
SCRUBBED_ENV = (
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "NVR_PRODUCTION",
    "LIVE_MAX_FRAME_BYTES",
    "LIVE_MAX_FPS",
    "LIVE_VIEWER_CREDITS",
    "LIVE_RECHECK_SECONDS",
)

_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", file=sys.stderr, flush=True)


# --- Frames ---------------------------------------------------------------------
# The pictures come from live_media.make_media. Each JPEG frame carries a tag in a
# JPEG comment segment (FF FE, 2-byte length, payload) right after the SOI marker, so
# it stays a valid JPEG: magic, sequence number, send time (this process's monotonic
# clock), camera id. H.264 access units carry nothing: viewers recognise each picture
# by its slices (live_media.vcl_key) and look its send time up in what the publisher
# recorded (Sends).
TAG_MAGIC = b"NVRB"
TAG = struct.Struct(">4sId16s")
COM_HEADER = b"\xff\xfe" + (TAG.size + 2).to_bytes(2, "big")
TAGGED_PREFIX = 2 + len(COM_HEADER) + TAG.size  # SOI + segment header + payload


@dataclass(frozen=True)
class Tag:
    seq: int
    sent: float
    camera: uuid.UUID


def tag_frame(frame: bytes, seq: int, camera: uuid.UUID) -> bytes:
    payload = TAG.pack(TAG_MAGIC, seq & 0xFFFFFFFF, time.monotonic(), camera.bytes)
    return b"".join((frame[:2], COM_HEADER, payload, frame[2:]))


def read_tag(data: bytes) -> Tag | None:
    if len(data) < TAGGED_PREFIX or data[2:6] != COM_HEADER:
        return None
    magic, seq, sent, camera = TAG.unpack_from(data, 6)
    if magic != TAG_MAGIC:
        return None
    return Tag(seq, sent, uuid.UUID(bytes=camera))


# --- Servers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess, its log file, and what it costs."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path, ready: str) -> None:
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.ready = ready  # the log line that says it listens (a bare TCP probe would log a failed handshake)
        self.popen: subprocess.Popen[bytes] | None = None
        self.log: TextIO | None = None

    def start(self) -> None:
        self.log = self.log_path.open("w")
        self.popen = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self.ready not in self.log_path.read_text(errors="replace"):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        self.process = psutil.Process(self.popen.pid)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.log is not None:
            self.log.close()

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(self.process.memory_info().rss) / 2**20


def redis_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if (p.info.get("name") or "").startswith("redis-server")]


def cpu_of(processes: Sequence[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


@dataclass
class Target:
    """How the clients reach one server."""

    name: str
    server: Server
    publisher_url: str
    publisher_headers: list[tuple[str, str]]
    viewer_url: Callable[[str], str]  # household label -> URL of its camera's live socket
    viewer_headers: Callable[[str, int], list[tuple[str, str]]]  # household label, viewer index -> headers
    origin: str
    mp4_query: str  # added to the viewer URL on the H.264 path ("?format=mp4": the NVR sends MP4)
    extra_cpu: list[psutil.Process] = field(default_factory=list)  # redis-server, for the Redis layer


# --- Clients --------------------------------------------------------------------


@dataclass
class Window:
    start: float = math.inf
    end: float = math.inf

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment < self.end


@dataclass
class Sends:
    """What the publisher sent: each sequence number's send time, and for each picture of
    the loop the newest sequence number that carried it (H.264 pictures carry no tag)."""

    times: list[float] = field(default_factory=list)
    newest: dict[int, int] = field(default_factory=dict)


@dataclass
class ViewerStats:
    camera: uuid.UUID  # the camera this socket watches
    expects_frames: bool  # False for household B's viewers
    # Pictures *sent* in the measurement window (counting by receive time would let a
    # latency spike at the window's end look like lost pictures).
    received: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds
    trace: list[tuple[float, int]] = field(default_factory=list)  # (receive time, seq)
    # Binary messages whose newest picture was sent in the window (by receive time when
    # none is recognised): their bytes and the pictures they held.
    bytes: int = 0
    messages: int = 0
    message_pictures: int = 0
    wrong: int = 0  # any time: another camera's frame, an untagged JPEG, anything to a B viewer
    corrupt: int = 0  # not the bytes that were sent (JPEG), or an unknown picture or broken boxes (H.264)
    undecodable: int = 0  # H.264: a picture that does not follow its predecessor and is no keyframe, or no init
    total: int = 0
    error: str | None = None  # the handshake failed
    closed_at: float | None = None  # when the socket closed (by either side)
    close_code: int | None = None


@dataclass
class PublisherStats:
    sent: int = 0  # in the window
    sent_bytes: int = 0  # in the window
    total: int = 0
    close_code: int | None = None


async def open_socket(url: str, headers: list[tuple[str, str]], origin: str | None) -> ClientConnection:
    return await connect(
        url,
        additional_headers=headers,
        origin=Origin(origin) if origin else None,
        compression=None,  # daphne negotiates none; the relay is told the same
        max_size=2**23,  # a viewer joining gets a group of pictures in one message
        open_timeout=30,
        ping_interval=None,
    )


async def watch_jpeg(sock: ClientConnection, stats: ViewerStats, window: Window, tails: Sequence[bytes]) -> None:
    """Read frames, check and time them, ack each one. ``tails``: each frame without its SOI marker."""
    try:
        async for message in sock:
            now = time.monotonic()
            if isinstance(message, str):
                continue  # the camera's status (JSON)
            stats.total += 1
            tag = read_tag(message)
            if tag is None or not stats.expects_frames or tag.camera != stats.camera:
                stats.wrong += 1
            else:
                tail = tails[tag.seq % len(tails)]
                if len(message) != TAGGED_PREFIX + len(tail) or not message.endswith(tail):  # no copies
                    stats.corrupt += 1
                if tag.sent in window:
                    stats.received += 1
                    stats.latencies.append(now - tag.sent)
                    stats.trace.append((now, tag.seq))
                    stats.bytes += len(message)
                    stats.messages += 1
                    stats.message_pictures += 1
            await sock.send("ack")
    except ConnectionClosed:
        pass
    stats.closed_at, stats.close_code = time.monotonic(), sock.close_code


async def watch_h264(
    sock: ClientConnection, stats: ViewerStats, window: Window, media: Media, sends: Sends, mp4: bool
) -> None:
    """Read messages (``mp4``: the NVR's fragmented MP4, else access units as the relay sends
    them), find each picture's send time by its slices, check that it can be decoded, and ack:
    the NVR's MP4 in batches of ``MP4_ACK_BATCH`` as static/js/live.js does, the relay each message."""
    last_seq: int | None = None
    has_init = not mp4
    owed = 0

    async def ack() -> None:
        nonlocal owed
        owed += 1
        if not mp4 or owed >= MP4_ACK_BATCH:
            await sock.send("ack" if owed == 1 else f"ack {owed}")
            owed = 0

    try:
        async for message in sock:
            now = time.monotonic()
            if isinstance(message, str):
                continue  # the camera's status (JSON)
            stats.total += 1
            bad = False
            if mp4:
                parsed = mp4_pictures(message)
                keys, bad = parsed.keys, parsed.bad
                has_init = has_init or parsed.init
            else:
                try:
                    keys = annexb_pictures(message)
                except BadStream:
                    keys, bad = [], True
            if not stats.expects_frames:
                stats.wrong += max(1, len(keys))
                await ack()
                continue
            stats.corrupt += bad
            newest_sent: float | None = None
            for key in keys:
                index = media.index_of.get(key)
                seq = None if index is None else sends.newest.get(index)
                if index is None or seq is None:
                    stats.corrupt += 1
                    last_seq = None
                    continue
                if not has_init or (not media.keyframes[index] and last_seq != seq - 1):
                    stats.undecodable += 1
                last_seq = seq
                sent = sends.times[seq]
                newest_sent = sent
                if sent in window:
                    stats.received += 1
                    stats.latencies.append(now - sent)
                    stats.trace.append((now, seq))
            if (newest_sent if newest_sent is not None else now) in window:
                stats.bytes += len(message)
                stats.messages += 1
                stats.message_pictures += len(keys)
            await ack()
    except ConnectionClosed:
        pass
    stats.closed_at, stats.close_code = time.monotonic(), sock.close_code


async def publish(
    sock: ClientConnection,
    payloads: Sequence[bytes],
    tagged: bool,
    camera: uuid.UUID,
    fps: float,
    stop_at: float,
    window: Window,
    stats: PublisherStats,
    sends: Sends,
) -> None:
    """Send a frame every 1/fps s on a monotonic schedule; late by more than a frame, the schedule slips.

    ``payloads`` in a loop; ``tagged``: each JPEG gets its tag (sequence number, send time, camera)."""
    interval = 1.0 / fps
    due = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now >= stop_at:
                return
            if due > now:
                await asyncio.sleep(due - now)
            seq = stats.total
            index = seq % len(payloads)
            sent_at = time.monotonic()
            data = tag_frame(payloads[index], seq, camera) if tagged else payloads[index]
            sends.times.append(sent_at)
            sends.newest[index] = seq
            await sock.send(data)
            stats.total += 1
            if sent_at in window:
                stats.sent += 1
                stats.sent_bytes += len(data)
            due = max(due + interval, time.monotonic() - interval)
    except ConnectionClosed as closed:
        stats.close_code = closed.rcvd.code if closed.rcvd else None
        progress(f"  publisher closed by the server: {closed}")


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def sample_server(server: Server, until: float, samples: list[tuple[float, float, float]]) -> float:
    """Every 100 ms: (time, RSS MB, CPU seconds) of the server. Returns the peak RSS."""
    peak = 0.0
    while time.monotonic() < until:
        try:
            rss, cpu = server.rss_mb(), server.cpu_seconds()
        except psutil.Error:
            break
        samples.append((time.monotonic(), rss, cpu))
        peak = max(peak, rss)
        await asyncio.sleep(0.1)
    return peak


async def quiesce(server: Server, limit: float = 8.0) -> None:
    """Wait until the server is idle (below 5% of a core over 250 ms): disconnects write to the database."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before, start = server.cpu_seconds(), time.monotonic()
        await asyncio.sleep(0.25)
        if (server.cpu_seconds() - before) / (time.monotonic() - start) < 0.05:
            return


def percentile_ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 2) if values else None


async def run_phase(
    target: Target,
    cameras: dict[str, uuid.UUID],
    viewers: int,
    fps: float,
    warmup: float,
    seconds: float,
    media: Media,
    path: str,
    trace: Path | None = None,
) -> dict[str, Any]:
    """Connect, publish ``path``'s pictures for ``warmup + seconds``, measure the last ``seconds``, disconnect.

    With ``trace``, writes every measured picture (viewer, receive time from the
    window's start, latency, sequence number) to that CSV file.
    """
    window = Window()
    sends = Sends()
    gate = asyncio.Semaphore(10)  # connect a few at a time, as browsers opening a page would
    query = target.mp4_query if path == H264 else ""

    async def viewer(label: str, index: int) -> tuple[ViewerStats, ClientConnection | None]:
        stats = ViewerStats(camera=cameras[label], expects_frames=label == "a")
        async with gate:
            try:
                url = target.viewer_url(label) + query
                sock = await open_socket(url, target.viewer_headers(label, index), target.origin)
            except (OSError, InvalidHandshake, TimeoutError) as error:
                stats.error = f"{type(error).__name__}: {error}"
                return stats, None
        return stats, sock

    opened = await asyncio.gather(
        *[viewer("a", i) for i in range(viewers)], *[viewer("b", i) for i in range(OTHER_VIEWERS)]
    )
    refused = [stats.error for stats, sock in opened if sock is None]
    if refused:
        progress(f"  {len(refused)} viewer socket(s) refused, first: {refused[0]}")
    sockets = [sock for _, sock in opened if sock is not None]
    if path == JPEG:
        tails = [frame[2:] for frame in media.jpegs]
        watchers = [asyncio.create_task(watch_jpeg(sock, stats, window, tails)) for stats, sock in opened if sock]
    else:
        mp4 = bool(target.mp4_query)
        watchers = [
            asyncio.create_task(watch_h264(sock, stats, window, media, sends, mp4)) for stats, sock in opened if sock
        ]
    publisher = await open_socket(target.publisher_url, target.publisher_headers, None)
    await asyncio.sleep(0.2)  # let the server attach the viewers

    start = time.monotonic()
    window.start, window.end = start + warmup, start + warmup + seconds
    sender = PublisherStats()
    samples: list[tuple[float, float, float]] = []
    rss = asyncio.create_task(sample_server(target.server, window.end, samples))
    payloads = media.jpegs if path == JPEG else media.access_units
    pump = asyncio.create_task(
        publish(publisher, payloads, path == JPEG, cameras["a"], fps, window.end, window, sender, sends)
    )
    await sleep_until(window.start)
    cpu0, extra0, wall0 = target.server.cpu_seconds(), cpu_of(target.extra_cpu), time.monotonic()
    await sleep_until(window.end)
    cpu1, extra1, wall1 = target.server.cpu_seconds(), cpu_of(target.extra_cpu), time.monotonic()
    await pump
    peak = await rss
    await asyncio.sleep(0.5)  # the window's last frames land; later ones count as not delivered
    dropped = [stats for stats, sock in opened if sock is not None and stats.closed_at is not None]
    if dropped:
        progress(
            f"  {len(dropped)} viewer socket(s) closed by the server early, codes {[s.close_code for s in dropped]}"
        )

    await asyncio.gather(publisher.close(), *(sock.close() for sock in sockets), return_exceptions=True)
    await asyncio.wait_for(asyncio.gather(*watchers), 10)
    await quiesce(target.server)

    a_viewers = [stats for stats, _ in opened if stats.expects_frames]
    if trace is not None:
        with trace.open("w") as out:
            out.write("viewer,t_s,latency_ms,seq\n")
            for index, stats in enumerate(a_viewers):
                for (moment, seq), latency in zip(stats.trace, stats.latencies, strict=True):
                    out.write(f"{index},{moment - window.start:.4f},{latency * 1000:.3f},{seq}\n")
        with trace.with_suffix(".server.csv").open("w") as out:
            out.write("t_s,rss_mb,cpu_s\n")
            for moment, rss_mb, cpu_s in samples:
                out.write(f"{moment - window.start:.3f},{rss_mb:.1f},{cpu_s:.3f}\n")
    latencies = [latency for stats in a_viewers for latency in stats.latencies]
    delivered = sum(stats.received for stats in a_viewers)
    cpu = cpu1 - cpu0
    wall = wall1 - wall0
    per_viewer = [stats.bytes / seconds for stats in a_viewers]
    stream = sender.sent_bytes / seconds
    messages = sum(stats.messages for stats in a_viewers)
    result: dict[str, Any] = {
        "slowest_viewer_fps": round(min(stats.received for stats in a_viewers) / seconds, 2),
        "latency_ms_p50": percentile_ms(latencies, 50),
        "latency_ms_p99": percentile_ms(latencies, 99),
        "bytes_per_viewer_s": round(sum(per_viewer) / len(per_viewer)),
        "bytes_per_viewer_s_max": round(max(per_viewer)),
        "stream_bytes_s": round(stream),
        "bytes_vs_stream": ratio(sum(per_viewer) / len(per_viewer), stream),
        "pictures_per_message": round(sum(stats.message_pictures for stats in a_viewers) / messages, 3)
        if messages
        else None,
        "cpu_pct": round(100 * cpu / wall, 1),
        "cpu_us_per_frame": round(cpu * 1e6 / delivered, 1) if delivered else None,
        "cpu_ms_per_video_s": round(cpu * 1000 * fps / delivered, 2) if delivered else None,
        "peak_rss_mb": round(peak, 1),
        "frames_delivered": delivered,
        "wrong_socket_frames": sum(stats.wrong for stats, _ in opened),
        "frames_sent": sender.sent,
        "corrupt_frames": sum(stats.corrupt for stats, _ in opened),
        "viewers_refused": len(refused),
        "viewers_dropped": len(dropped),
        "publisher_close_code": sender.close_code,
    }
    if path == H264:
        result["undecodable_pictures"] = sum(stats.undecodable for stats in a_viewers)
    if target.extra_cpu:
        extra = extra1 - extra0
        result["redis_cpu_pct"] = round(100 * extra / wall, 1)
        result["redis_cpu_us_per_frame"] = round(extra * 1e6 / delivered, 1) if delivered else None
    return result


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def emit(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def goals(line: dict[str, Any]) -> dict[str, Any]:
    """The issue's goals for one N, from the figures of the same run."""
    result: dict[str, Any] = {}
    h264, jpeg = line.get(H264), line.get(JPEG)
    if h264:
        result["h264_bytes_vs_stream_le_1.1"] = at_most(h264["nvr"]["bytes_vs_stream"], GOALS["bytes_vs_stream"])
        result["h264_latency_p99_vs_bare_le_2"] = at_most(h264["ratio"]["latency_p99"], GOALS["latency_p99_vs_bare"])
    if jpeg:
        result["jpeg_latency_p99_vs_bare_le_2"] = at_most(jpeg["ratio"]["latency_p99"], GOALS["latency_p99_vs_bare"])
    if h264 and jpeg:
        result["h264_web_cpu_le_half_jpeg"] = at_most(
            line["h264_vs_jpeg"]["nvr_cpu_per_video_s"], GOALS["web_cpu_h264_vs_jpeg"]
        )
    return result


async def bench(
    args: argparse.Namespace, targets: list[Target], cameras: dict[str, uuid.UUID], media: Media, scratch: Path
) -> None:
    budget = WARMUP_SECONDS + args.seconds + 90
    for viewers in args.viewers:
        line: dict[str, Any] = {
            "bench": "live_fanout",
            "layer": args.layer,
            "viewers": viewers,
            "fps_target": args.fps,
            "media": media.summary(),
        }
        for path in args.path:
            figures: dict[str, Any] = {}
            for target in targets:
                phase = f"{viewers} viewer(s), {args.fps:g} fps, {WARMUP_SECONDS:g}+{args.seconds:g} s"
                progress(f"{path} {target.name}: {phase}")
                trace = args.trace / f"{args.layer}-{path}-{target.name}-{viewers}v.csv" if args.trace else None
                figures[target.name] = await asyncio.wait_for(
                    run_phase(target, cameras, viewers, args.fps, WARMUP_SECONDS, args.seconds, media, path, trace),
                    budget,
                )
            nvr, bare = figures["nvr"], figures["bare"]
            figures["ratio"] = {
                "latency_p99": ratio(nvr["latency_ms_p99"], bare["latency_ms_p99"]),
                "cpu_per_frame": ratio(nvr["cpu_us_per_frame"], bare["cpu_us_per_frame"]),
            }
            line[path] = figures
        if JPEG in line and H264 in line:
            jpeg, h264 = line[JPEG]["nvr"], line[H264]["nvr"]
            line["h264_vs_jpeg"] = {
                "bytes_per_viewer_s": ratio(h264["bytes_per_viewer_s"], jpeg["bytes_per_viewer_s"]),
                "nvr_cpu_per_video_s": ratio(h264["cpu_ms_per_video_s"], jpeg["cpu_ms_per_video_s"]),
                "nvr_latency_p99": ratio(h264["latency_ms_p99"], jpeg["latency_ms_p99"]),
                "bare_cpu_per_video_s": ratio(
                    line[H264]["bare"]["cpu_ms_per_video_s"], line[JPEG]["bare"]["cpu_ms_per_video_s"]
                ),
            }
        line["goals"] = goals(line)
        emit(line)

    if args.sustained:
        sustained: dict[str, Any] = {"viewers": SUSTAINED["viewers"], "fps_target": SUSTAINED["fps"]}
        for path in args.path:
            figures = {}
            for target in targets:
                progress(
                    f"{path} {target.name}: sustained rate, {SUSTAINED['viewers']:g} viewers, "
                    f"{SUSTAINED['fps']:g} fps target"
                )
                result = await asyncio.wait_for(
                    run_phase(
                        target,
                        cameras,
                        int(SUSTAINED["viewers"]),
                        SUSTAINED["fps"],
                        SUSTAINED["warmup"],
                        SUSTAINED["seconds"],
                        media,
                        path,
                        args.trace / f"{args.layer}-{path}-{target.name}-sustained.csv" if args.trace else None,
                    ),
                    SUSTAINED["warmup"] + SUSTAINED["seconds"] + 90,
                )
                name = target.name
                figures[f"{name}_fps"] = result["slowest_viewer_fps"]
                figures[f"{name}_sent_fps"] = round(result["frames_sent"] / SUSTAINED["seconds"], 1)
                figures[f"{name}_latency_ms_p50"] = result["latency_ms_p50"]
                figures[f"{name}_cpu_pct"] = result["cpu_pct"]
                figures[f"{name}_peak_rss_mb"] = result["peak_rss_mb"]
                figures[f"{name}_pictures_per_message"] = result["pictures_per_message"]
                figures[f"{name}_wrong_socket_frames"] = result["wrong_socket_frames"]
                figures[f"{name}_publisher_close_code"] = result["publisher_close_code"]
                if path == H264:
                    figures[f"{name}_undecodable_pictures"] = result["undecodable_pictures"]
            figures["ratio"] = ratio(figures["nvr_fps"], figures["bare_fps"])
            sustained[path] = figures
        emit({"bench": "live_fanout", "layer": args.layer, "sustained_10_viewers": sustained})

    if args.reader_seconds > 0:
        emit({"bench": "live_fanout", "readers": await run_readers(args, media, scratch)})


async def run_readers(args: argparse.Namespace, media: Media, scratch: Path) -> dict[str, Any]:
    """``bench/live_readers.py`` in a child process (it needs Django's settings), on an MP4 of
    the same access units; no other phase runs meanwhile."""
    clip = scratch / "live-h264.mp4"
    loops = clip_loops(media.seconds, args.reader_seconds)
    write_clip(media.access_units * loops, media.fps, media.width, media.height, clip)
    progress(f"readers: jpeg (decode + encode) then h264 (demux), {args.reader_seconds:g} s each")
    env = {**site_env(scratch, "memory"), "NVR_CAMERA_ALLOWED_NETWORKS": "127.0.0.1/32"}
    child = await asyncio.create_subprocess_exec(
        PYTHON,
        str(ROOT / "bench" / "live_readers.py"),
        "--clip",
        str(clip),
        "--fps",
        f"{media.fps:g}",
        "--seconds",
        f"{args.reader_seconds:g}",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(child.communicate(), 2 * (args.reader_seconds + 40))
    lines = out.decode().strip().splitlines()
    if child.returncode != 0 or not lines:
        return {"error": f"bench/live_readers.py failed ({child.returncode})"}
    readers: dict[str, Any] = json.loads(lines[-1])["readers"]
    readers["clip_kbit_s"] = round(media.h264_bits_per_s / 1000)
    return readers


# --- Setup ----------------------------------------------------------------------


def site_env(data_dir: Path, layer: str, extra: Sequence[str] = ()) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED_ENV}
    env.update(
        NVR_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="nvr.settings",
        PYTHONPATH=str(ROOT),
        DEBUG="0",  # a deployment's settings: no query log
        LIVE_MAX_FPS="1000",  # the sustained-rate phase sends up to 200 frames/s
        LIVE_VIEWER_CREDITS=str(CREDITS),
    )
    if layer == "redis":
        env["REDIS_URL"] = REDIS_URL
    for assignment in extra:
        name, _, value = assignment.partition("=")
        env[name] = value
    return env


def run_step(command: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def log_problems(path: Path) -> Iterator[str]:
    """Lines of a server log that say something went wrong."""
    if not path.exists():
        return
    for line in path.read_text(errors="replace").splitlines():
        if any(word in line for word in ("ERROR", "CRITICAL", "Traceback", "WARNING", "Exception")):
            yield line


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", default="1,10,50", help="comma-separated viewer counts (default 1,10,50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per N (after 2 s of warm-up)")
    parser.add_argument("--fps", type=float, default=15.0, help="publisher's frame rate (and the H.264 stream's)")
    parser.add_argument("--path", default="jpeg,h264", help="comma-separated, of jpeg and h264 (default both)")
    parser.add_argument(
        "--reader-seconds",
        type=float,
        default=10.0,
        help="measured seconds per reader mode (pull cameras' reader child; 0 skips it)",
    )
    parser.add_argument("--no-sustained", dest="sustained", action="store_false", help="skip the sustained phase")
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory", help="the NVR's channel layer")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and the server logs")
    parser.add_argument("--trace", type=Path, help="a folder for per-frame CSV files (receive time, latency)")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the site and both servers, for experiments (repeatable)",
    )
    args = parser.parse_args()
    args.viewers = [int(part) for part in args.viewers.split(",") if part.strip()]
    args.path = [part.strip() for part in args.path.split(",") if part.strip()]
    if not args.path or any(part not in PATHS for part in args.path):
        parser.error(f"--path takes a comma-separated list of {', '.join(PATHS)}")
    if any("=" not in assignment for assignment in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
    if not args.viewers or min(args.viewers) < 1 or args.fps <= 0 or args.seconds <= 0:
        parser.error("--viewers needs positive counts, --fps and --seconds positive numbers")
    return args


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="nvr-bench-"))
    env = site_env(data_dir, args.layer, args.server_env)
    servers: list[Server] = []
    try:
        progress(f"pictures: {CYCLE_SECONDS} s of 1280x720 at {args.fps:g} fps, as JPEG and as H.264")
        media = make_media(frames=round(CYCLE_SECONDS * args.fps), fps=args.fps)
        summary = media.summary()
        progress(
            f"  H.264 {summary['h264_kbit_s']} kbit/s, JPEG {summary['jpeg_kb_mean']} KB a frame "
            f"({summary['jpeg_kbit_s']} kbit/s)"
        )
        progress(f"site in {data_dir} ({args.layer} layer): migrate")
        run_step([PYTHON, "manage.py", "migrate", "--noinput"], env, timeout=180)
        progress("two households, a push camera each, signed-in sessions")
        site = json.loads(run_step([PYTHON, "bench/nvr_setup.py"], env, timeout=120).strip().splitlines()[-1])
        cameras = {label: uuid.UUID(site[label]["camera"]) for label in ("a", "b")}

        nvr_port, bare_port = free_port(), free_port()
        daphne = Server(
            "nvr",
            [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(nvr_port), "nvr.asgi:application"],
            {**env, "NVR_ALLOWED_ORIGINS": f"http://127.0.0.1:{nvr_port}"},  # live sockets check it exactly
            data_dir / "daphne.log",
            ready=f"Listening on TCP address 127.0.0.1:{nvr_port}",
        )
        bare = Server(
            "bare",
            [PYTHON, "bench/bare_relay.py", "--port", str(bare_port), "--credits", str(CREDITS)],
            env,
            data_dir / "bare.log",
            ready=f"listening on 127.0.0.1:{bare_port}",
        )
        for server in (daphne, bare):
            servers.append(server)
            server.start()
        progress(f"daphne on port {nvr_port} (pid {daphne.process.pid}), bare relay on {bare_port}")

        nvr_origin = f"http://127.0.0.1:{nvr_port}"
        targets = [
            Target(
                name="nvr",
                server=daphne,
                publisher_url=f"ws://127.0.0.1:{nvr_port}/ws/device/",
                publisher_headers=[("Authorization", f"Bearer {site['a']['token']}")],
                viewer_url=lambda label: f"ws://127.0.0.1:{nvr_port}/ws/live/{cameras[label]}/",
                viewer_headers=lambda label, index: [
                    ("Cookie", f"sessionid={site[label]['cookies'][index % len(site[label]['cookies'])]}")
                ],
                origin=nvr_origin,
                mp4_query="?format=mp4",
                extra_cpu=redis_processes() if args.layer == "redis" else [],
            ),
            Target(
                name="bare",
                server=bare,
                publisher_url=f"ws://127.0.0.1:{bare_port}/pub/{cameras['a']}/",
                publisher_headers=[],
                viewer_url=lambda label: f"ws://127.0.0.1:{bare_port}/view/{cameras[label]}/",
                viewer_headers=lambda label, index: [],
                origin=f"http://127.0.0.1:{bare_port}",
                mp4_query="",
            ),
        ]
        asyncio.run(bench(args, targets, cameras, media, data_dir))
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            problems = list(log_problems(server.log_path))
            if problems:
                distinct = list(dict.fromkeys(problems))
                progress(f"{server.name} log: {len(problems)} problem line(s), {len(distinct)} distinct; first ones:")
                for line in distinct[:10]:
                    progress(f"  {line[:300]}")
            else:
                progress(f"{server.name} log: no warnings or errors")
        if args.keep:
            progress(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
