"""CPU and memory of one stream reader child, decoding off and on, against the RTSP test server.

    .venv/bin/python -m tools.measure_reader [--size 1280x720] [--fps 15] [--seconds 15]

Makes a synthetic H.264 clip, serves it with ``tools/rtsp_server.py`` (GStreamer, see
README "The RTSP test server"), reads it with ``devices.ingest.reader.StreamReader``
and prints the child's CPU share (after a few seconds of start-up) and peak memory.
"""

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import django


async def measure(clip: Path, *, decode: bool, seconds: float, label: str) -> None:
    from devices.addresses import check_address
    from devices.ingest.config import IngestConfig
    from devices.ingest.reader import JpegFrame, Packet, ReaderLimits, StreamReader, cpu_seconds
    from tools.rtsp_testing import RtspServer

    counts = {"packets": 0, "jpegs": 0}
    with RtspServer(clip) as server:
        reader = StreamReader(check_address(server.url()), IngestConfig(max_fps=10), ReaderLimits(), decode=decode)
        async with reader:

            async def consume() -> None:
                async for message in reader.messages():
                    counts["packets"] += isinstance(message, Packet)
                    counts["jpegs"] += isinstance(message, JpegFrame)

            task = asyncio.create_task(consume())
            await asyncio.sleep(4)  # imports, connection, first keyframe: not counted
            pid = reader.pid
            assert pid is not None
            cpu0, t0, packets0, jpegs0 = cpu_seconds(pid) or 0.0, time.monotonic(), counts["packets"], counts["jpegs"]
            await asyncio.sleep(seconds)
            cpu1, t1 = cpu_seconds(pid) or 0.0, time.monotonic()
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            peak = next((line.split()[1] for line in status if line.startswith("VmHWM")), "?")
            task.cancel()
    elapsed = t1 - t0
    print(
        f"{label} decode {'on ' if decode else 'off'}: child CPU {100 * (cpu1 - cpu0) / elapsed:.1f} % of a core, "
        f"{(counts['packets'] - packets0) / elapsed:.1f} packets/s, {(counts['jpegs'] - jpegs0) / elapsed:.1f} JPEG/s, "
        f"peak resident memory {int(peak) // 1024 if peak.isdigit() else peak} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nvr.settings")
    os.environ["NVR_CAMERA_ALLOWED_NETWORKS"] = "127.0.0.1/32"  # the server runs here
    django.setup()
    from tools.synth import make_clip

    clip = Path(tempfile.mkdtemp(prefix="nvr-measure-")) / "clip.mp4"
    make_clip(clip, seconds=args.seconds + 20, fps=args.fps, width=width, height=height)
    for decode in (False, True):
        asyncio.run(measure(clip, decode=decode, seconds=args.seconds, label=f"{args.size}@{args.fps}"))


if __name__ == "__main__":
    main()
