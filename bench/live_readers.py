"""What a pull camera's live view costs its reader: decode + JPEG encode against demux only.

The real reader child (``devices.ingest.reader.StreamReader`` running
``devices/ingest/reader_child.py``, as ``devices/ingest/worker.py`` starts it) reads
an RTSP camera (``tools.rtsp_testing.RtspServer``: GStreamer on 127.0.0.1 playing
an MP4 of the given H.264 access units) twice, each time from a fresh server:

- ``jpeg``: decoding on (``decode=True``), what JPEG viewers cost: every picture
  decoded, a JPEG encoded at up to ``jpeg_fps`` a second and sent to this process;
- ``h264``: packets on, decoding off (``packets=True``), what MP4 viewers cost: the
  child only demuxes and sends each packet; this process cuts each one into an MP4
  fragment with ``devices.fmp4.Fragmenter.push``, as the worker does (timed here).

CPU is user + system time (``devices.ingest.reader.cpu_seconds``) over ``seconds``
after ``warmup`` seconds from the first message, in cores (CPU seconds per second).
The worker's publishing to the channel layer is not included (no site here).

``live_fanout.py`` runs this in a child process after its sockets phases, with the
clip it wrote (``--clip``); alone, it makes the bench's pictures itself::

    .venv/bin/python bench/live_readers.py [--seconds 10] [--fps 15] [--clip clip.mp4]

One JSON line on stdout. The reader imports Django's settings (``devices.ingest``),
so this runs with ``NVR_DATA_DIR`` in a temporary folder unless the caller set one.
"""

import argparse
import asyncio
import ipaddress
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from live_media import clip_loops, make_media, write_clip

from devices.addresses import check_address
from devices.fmp4 import TIMESCALE, Fragmenter
from tools import rtsp_testing

OPEN_SECONDS = 10.0  # the longest wait for the child's first message


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def read_once(url: str, mode: str, fps: float, warmup: float, seconds: float) -> dict[str, Any]:
    """One reader on ``url`` in ``mode`` (``jpeg`` or ``h264``) for ``warmup + seconds``."""
    from devices.ingest.config import IngestConfig  # after django.setup(): the package loads models
    from devices.ingest.reader import JpegFrame, Packet, ReaderLimits, StreamInfo, StreamReader, cpu_seconds

    address = check_address(url, allowed=[ipaddress.ip_network("127.0.0.1/32")])
    reader = StreamReader(
        address, IngestConfig(max_fps=fps), ReaderLimits(), decode=mode == "jpeg", packets=mode == "h264"
    )
    first = asyncio.get_running_loop().create_future()
    measuring = False
    counted = {"packets": 0, "packet_bytes": 0, "fragments": 0, "jpegs": 0, "jpeg_bytes": 0}
    push_ns: list[int] = []
    window_packets: list[Packet] = []
    extradata = b""

    async def consume() -> None:
        fragmenter: Fragmenter | None = None
        stream: StreamInfo | None = None
        nonlocal extradata
        async for message in reader.messages():
            if not first.done():
                first.set_result(time.monotonic())
            if isinstance(message, StreamInfo):
                stream, extradata = message, message.extradata
                rate = message.rate if message.rate and 1 <= message.rate <= 120 else fps
                fragmenter = Fragmenter(extradata=message.extradata, default_duration=round(TIMESCALE / rate))
            elif isinstance(message, Packet) and message.data and fragmenter is not None and stream is not None:
                base = stream.time_base
                dts = message.dts if message.dts is not None else message.pts
                if dts is None:
                    continue
                pts = message.pts
                began = time.thread_time_ns()
                fragment = fragmenter.push(
                    message.data,
                    dts=dts * base.numerator * TIMESCALE // base.denominator,
                    pts=None if pts is None else pts * base.numerator * TIMESCALE // base.denominator,
                    key=message.keyframe,
                )
                spent = time.thread_time_ns() - began
                if measuring:
                    push_ns.append(spent)
                    window_packets.append(message)
                    counted["packets"] += 1
                    counted["packet_bytes"] += len(message.data)
                    counted["fragments"] += fragment is not None
            elif isinstance(message, JpegFrame) and measuring:
                counted["jpegs"] += 1
                counted["jpeg_bytes"] += len(message.data)

    await reader.start()
    pid = reader.pid
    assert pid is not None
    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(asyncio.shield(first), OPEN_SECONDS)
        await asyncio.sleep(warmup)
        child0, own0, wall0 = cpu_seconds(pid), own_cpu(), time.monotonic()
        measuring = True
        await asyncio.sleep(seconds)
        measuring = False
        child1, own1, wall1 = cpu_seconds(pid), own_cpu(), time.monotonic()
        ended = reader.outcome  # None while the stream still runs
    finally:
        await reader.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    wall = wall1 - wall0
    if child0 is None or child1 is None or ended is not None:
        return {"error": f"the reader ended during the window: {ended} {reader.detail}".strip()}
    result: dict[str, Any] = {
        "child_cores": round((child1 - child0) / wall, 4),
        "worker_cores": round((own1 - own0) / wall, 4),  # this process: reading the child, (h264) fragmenting
    }
    if mode == "jpeg":
        result["jpegs_per_s"] = round(counted["jpegs"] / wall, 2)
        result["jpeg_kb_mean"] = round(counted["jpeg_bytes"] / max(1, counted["jpegs"]) / 1000, 1)
        result["child_ms_per_picture"] = (
            round((child1 - child0) * 1000 / counted["jpegs"], 2) if counted["jpegs"] else None
        )
    else:
        result["packets_per_s"] = round(counted["packets"] / wall, 2)
        result["packet_kbit_s"] = round(counted["packet_bytes"] * 8 / wall / 1000)
        result["fragments"] = counted["fragments"]
        result["child_ms_per_picture"] = (
            round((child1 - child0) * 1000 / counted["packets"], 3) if counted["packets"] else None
        )
        pushes = sorted(push_ns) or [0]
        result["fragmenter_us_per_packet"] = round(sum(pushes) / len(pushes) / 1000, 1)
        result["fragmenter_us_per_packet_p50"] = round(pushes[len(pushes) // 2] / 1000, 1)
        result["fragmenter_us_per_packet_max"] = round(pushes[-1] / 1000, 1)
        result["fragmenter_cores"] = round(sum(push_ns) / 1e9 / wall, 5)
        result["fragmenter_us_per_packet_warm"] = warm_push_us(window_packets, extradata)
    return result


def warm_push_us(packets: list[Any], extradata: bytes, rounds: int = 3) -> float | None:
    """The same packets pushed back to back into a new Fragmenter: the cost with warm caches.
    In the loop above each push follows 67 ms of sleep and costs several times more."""
    if not packets:
        return None
    fragmenter = Fragmenter(extradata=extradata)
    began = time.thread_time_ns()
    for round_ in range(rounds):
        for index, packet in enumerate(packets):
            fragmenter.push(packet.data, dts=(round_ * len(packets) + index) * 6000, key=packet.keyframe)
    return round((time.thread_time_ns() - began) / (rounds * len(packets)) / 1000, 1)


async def measure_readers(clip: Path, fps: float, seconds: float, warmup: float = 2.0) -> dict[str, Any]:
    """Both modes, each from a fresh RTSP server playing ``clip`` from its start."""
    missing = rtsp_testing.missing()
    if missing:
        return {"skipped": f"GStreamer's RTSP server is missing: {missing}"}
    result: dict[str, Any] = {"jpeg_fps_cap": fps, "seconds": seconds}
    for mode in ("jpeg", "h264"):
        with rtsp_testing.RtspServer(clip) as server:
            result[mode] = await read_once(server.url(), mode, fps, warmup, seconds)
    jpeg, h264 = result["jpeg"], result["h264"]
    if "child_cores" in jpeg and "child_cores" in h264 and jpeg["child_cores"]:
        result["ratio"] = {"child_h264_vs_jpeg": round(h264["child_cores"] / jpeg["child_cores"], 3)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per mode (after 2 s)")
    parser.add_argument("--fps", type=float, default=15.0, help="the clip's rate, and the JPEG mode's cap")
    parser.add_argument("--clip", type=Path, help="an H.264 MP4 long enough for both windows (default: made here)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as scratch:
        os.environ.setdefault("NVR_DATA_DIR", str(Path(scratch) / "data"))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nvr.settings")
        import django

        django.setup()
        line: dict[str, Any] = {"bench": "live_readers"}
        clip = args.clip
        if clip is None:
            media = make_media(frames=round(16 * args.fps), fps=args.fps)
            line["media"] = media.summary()
            clip = Path(scratch) / "clip.mp4"
            units = media.access_units * clip_loops(media.seconds, args.seconds)
            write_clip(units, media.fps, media.width, media.height, clip)
        line["readers"] = asyncio.run(measure_readers(clip, args.fps, args.seconds))
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
