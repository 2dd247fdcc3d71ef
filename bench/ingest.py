"""Recording pull cameras: the ingest worker's CPU per camera against a plain PyAV stream copy.

N simulated 1080p15 H.264 RTSP cameras (``tools/rtsp_server.py``, GStreamer on
127.0.0.1, one server per camera playing the same generated clip) are recorded
continuously in segments of ``--segment`` seconds by the real worker loop
(``devices.ingest.worker.run_camera``: one ``StreamReader`` child per camera
writing MP4 files by stream copy), in this process, without a database: the
recorder given to ``run_camera`` keeps nothing (no lease, no ``segment_store``,
so no encryption, no database row and no Celery analysis), and the camera status
reports are caught instead of saved. Then, in the same run and from the same
servers, the baseline: one plain PyAV child per camera (``av.open`` with
``rtsp_transport=tcp``, demux, mux into MP4 files of the same length, nothing
else). Per N (default 1, 4, 8), phases in this order:

- ``recorder``: continuous, nobody watching (the child only parses and copies);
- ``copy``: the baseline;
- ``viewer``: continuous with one viewer per camera (``watched`` returns True: the
  child decodes and sends JPEGs at ``INGEST_MAX_FPS``; they are published to the
  in-memory channel layer with no socket listening, so the fan-out to browsers,
  measured by ``bench/live_fanout.py``, is not included).

and for ``--motion-cameras`` cameras (default 1): ``motion`` (motion mode, which
decodes every picture in the child) and ``decode``: a plain PyAV child decoding every
picture of the same stream (one thread), its baseline.

CPU is user + system time from ``/proc`` (psutil) over ``--seconds`` after
``--warmup`` seconds: the reader children plus this process (the worker's share:
reading the children's messages, the record folders, the stored files), per
camera, in % of one core (= CPU seconds per 100 s of stream: the stream runs in
real time). One JSON line on stdout, progress on stderr::

    .venv/bin/python bench/ingest.py                          # N = 1, 4, 8; 20 s each; ~5 min
    .venv/bin/python bench/ingest.py --cameras 8 --seconds 10 --no-motion
    .venv/bin/python bench/ingest.py --keep bench/results/ingest   # keep (and reuse) the clip there

Trust the ratios (same streams, same run) over the absolute figures.
"""

import argparse
import asyncio
import contextlib
import fractions
import itertools
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import psutil  # type: ignore[import-untyped]  # no stubs installed

ROOT = Path(__file__).resolve().parents[1]
FPS = 15
WIDTH, HEIGHT = 1920, 1080
BASE_CLIP_S = 10  # generated once, then looped by stream copy to outlast a phase
GOAL_CPU_RATIO = 1.5
GOAL_GAP_MS = 1000 / FPS
GOAL_MACHINE_SHARE = 0.5
CORES = os.cpu_count() or 1


# --- The baseline's child: plain PyAV, nothing of the project ------------------------------


def plain_child(url: str, folder: str, seconds: float, decode: bool) -> None:
    """Stream copy into MP4 files of about ``seconds`` (each from a keyframe), or (``decode``)
    decode every picture; until SIGTERM."""
    import av

    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    container = av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10.0, 10.0))
    video = container.streams.video[0]
    time_base = video.time_base or fractions.Fraction(1, 90000)
    if decode:
        video.codec_context.thread_count = 1
    output: Any = None
    stream: Any = None
    path: Path | None = None
    count = first = 0
    for packet in container.demux(video):
        if stopping:
            break
        if packet.size == 0 or packet.pts is None:
            continue
        if decode:
            for _ in packet.decode():
                pass
            continue
        if packet.is_keyframe and (output is None or float((packet.pts - first) * time_base) >= seconds):
            if output is not None:
                output.close()
                if path is not None:
                    path.unlink()
            count += 1
            path = Path(folder) / f"copy-{count:06d}.mp4"
            output = av.open(str(path), "w", format="mp4")
            stream = output.add_stream_from_template(video)
            first = packet.pts
        if output is None:
            continue
        dts = packet.dts if packet.dts is not None else packet.pts
        packet.pts, packet.dts = packet.pts - first, dts - first
        packet.stream = stream
        output.mux(packet)
    if output is not None:
        output.close()
    container.close()


# --- The clip and the cameras ----------------------------------------------------------------


def make_camera_clip(folder: Path, seconds: float, noise: float) -> Path:
    """A 1080p15 clip of at least ``seconds``: ``BASE_CLIP_S`` generated (a block moving
    during part of it, for motion mode), then repeated by stream copy."""
    import av

    from tools.synth import make_clip

    loops = max(1, math.ceil(seconds / BASE_CLIP_S))
    path = folder / f"camera-{WIDTH}x{HEIGHT}-{FPS}fps-noise{noise:g}-{loops * BASE_CLIP_S}s.mp4"
    if path.exists():
        return path
    base = folder / f"base-{WIDTH}x{HEIGHT}-{FPS}fps-noise{noise:g}.mp4"
    if not base.exists():
        started = time.monotonic()
        motion = [(2.0, 4.0), (6.5, 7.5)]
        make_clip(base, seconds=BASE_CLIP_S, fps=FPS, width=WIDTH, height=HEIGHT, noise=noise, motion=motion)
        progress(f"generated {base.name} in {time.monotonic() - started:.1f} s")
    with av.open(str(base)) as source:
        video = source.streams.video[0]
        packets = [packet for packet in source.demux(video) if packet.size and packet.pts is not None]
        time_base = video.time_base
        assert time_base is not None
        length = round(BASE_CLIP_S / time_base)
        partial = path.with_suffix(".partial.mp4")
        with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as output:
            stream = output.add_stream_from_template(video)
            for loop in range(loops):
                for packet in packets:
                    copy = av.Packet(bytes(packet))
                    assert packet.pts is not None
                    dts = packet.dts if packet.dts is not None else packet.pts
                    copy.pts, copy.dts = packet.pts + loop * length, dts + loop * length
                    copy.duration, copy.is_keyframe, copy.time_base = packet.duration, packet.is_keyframe, time_base
                    copy.stream = stream
                    output.mux(copy)
    partial.rename(path)
    return path


def clip_seconds(clip: Path) -> float:
    import av

    container = av.open(str(clip))
    try:
        return float(container.duration or 0) / 1_000_000 or 1.0
    finally:
        container.close()


@contextlib.contextmanager
def cameras(clip: Path, count: int) -> Iterator[list[str]]:
    """``count`` RTSP servers playing ``clip`` from its start, stopped on exit."""
    from tools.rtsp_testing import RtspServer

    servers = [RtspServer(clip) for _ in range(count)]
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(lambda server: server.start(), servers))
        yield [server.url() for server in servers]
    finally:
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(lambda server: server.stop(), servers))


# --- Measuring -----------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[ingest] {message}", file=sys.stderr, flush=True)


def children_named(marker: str) -> list[Any]:
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any(marker in part for part in child.cmdline()):
                found.append(child)
    return found


def cpu_of(processes: list[Any]) -> dict[int, float]:
    used = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            used[process.pid] = times.user + times.system
    return used


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def machine_busy() -> tuple[float, float]:
    """CPU seconds the whole machine spent busy, and idle (all cores)."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle, idle


@dataclass
class Window:
    """CPU used over the measured window by the watched processes (by pid) and this one."""

    children: dict[int, float] = field(default_factory=dict)
    own: float = 0.0
    servers: float = 0.0
    machine_busy: float = 0.0
    wall: float = 0.0


async def measure_window(marker: str, seconds: float, servers: list[Any]) -> tuple[Window, int]:
    """CPU over ``seconds``: of this process's children whose command holds ``marker``
    (the same children at both ends: a child that was replaced is not counted), this
    process, the RTSP servers and the machine. Also how many children there were."""
    before_children = children_named(marker)
    first = cpu_of(before_children)
    own0, servers0, (busy0, _), t0 = own_cpu(), sum(cpu_of(servers).values()), machine_busy(), time.monotonic()
    await asyncio.sleep(seconds)
    last = cpu_of(before_children)
    own1, servers1, (busy1, _), t1 = own_cpu(), sum(cpu_of(servers).values()), machine_busy(), time.monotonic()
    window = Window(
        children={pid: last[pid] - first[pid] for pid in first if pid in last},
        own=own1 - own0,
        servers=servers1 - servers0,
        machine_busy=busy1 - busy0,
        wall=t1 - t0,
    )
    return window, len(before_children)


def server_processes() -> list[Any]:
    return children_named("rtsp_server.py")


# --- Phases --------------------------------------------------------------------------------


@dataclass
class Stored:
    camera: uuid.UUID
    stream_start: float
    stream_end: float
    pictures: int
    started_at: datetime | None = None
    ended_at: datetime | None = None
    stored_after: float = 0.0  # seconds between the file's end (as dated) and its storing


class BenchRecorder:
    """A ``PullRecorder`` that keeps nothing: no lease, no storage, no processing."""

    def __init__(self, plan: Any) -> None:
        self.the_plan = plan
        self.stored: list[tuple[uuid.UUID, datetime, datetime, float]] = []

    @property
    def lease_seconds(self) -> float:
        return 3600.0

    def plan(self, camera_id: uuid.UUID, account_id: uuid.UUID) -> Any:
        return self.the_plan

    def claim(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> bool:
        return True

    def renew(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> bool:
        return True

    def release(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> None:
        return None

    def store(
        self, camera_id: uuid.UUID, account_id: uuid.UUID, path: Path, started_at: datetime, ended_at: datetime
    ) -> None:
        self.stored.append((camera_id, started_at, ended_at, time.time()))


async def worker_phase(
    urls: list[str], *, mode: str, watching: bool, segment: float, warmup: float, seconds: float, scratch: Path
) -> dict[str, Any]:
    """``run_camera`` for each URL, recording (``mode``), watched or not."""
    from devices.extensions import RecordPlan
    from devices.ingest import worker
    from devices.ingest.config import IngestConfig
    from devices.ingest.reader import ReaderLimits, SegmentClosed
    from devices.selectors import Watching

    plan = RecordPlan(mode=mode, seconds=segment, pre_roll=2.0, post_roll=2.0, sensitivity=0.5, min_area_percent=0.5)
    recorder = BenchRecorder(plan)
    segments: list[Stored] = []
    rates: dict[uuid.UUID, list[float]] = {}
    statuses: list[str] = []

    def report(*, camera_id: uuid.UUID, account_id: uuid.UUID, status: Any, fps: float | None = None, **_: Any) -> None:
        if fps is not None:
            rates.setdefault(camera_id, []).append(fps)
        if str(status) not in ("online", "offline"):  # offline: when it is stopped
            statuses.append(str(status))

    original_store = worker._CameraRun.store

    async def store(run: Any, closed: SegmentClosed, folder: Path) -> None:
        segments.append(Stored(run.camera_id, closed.start, closed.end, closed.pictures))
        await original_store(run, closed, folder)

    async def watched(camera_id: uuid.UUID, account_id: uuid.UUID) -> Watching:
        return Watching(jpeg=watching)

    folder = scratch / f"segments-{mode}-{len(urls)}-{int(watching)}"
    config = IngestConfig.from_settings()
    config = IngestConfig(max_fps=config.max_fps, report_every=1.0, segments_dir=str(folder))
    limits = ReaderLimits(memory_mb=1024, max_cpu=1.5, cpu_window=30.0)  # never stopped by the bench's own load
    account = uuid.uuid4()
    ids = [uuid.uuid4() for _ in urls]
    stop = asyncio.Event()
    with (
        mock.patch.object(worker, "report_in_scope", report),
        mock.patch.object(worker._CameraRun, "store", store),
        contextlib.ExitStack() as cleanup,
    ):
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        cleanup.callback(stop.set)
        tasks = [
            asyncio.create_task(
                worker.run_camera(
                    camera,
                    account,
                    url,
                    config=config,
                    stop=stop,
                    limits=limits,
                    watched=watched,
                    recorder=recorder,
                    plan=plan,
                )
            )
            for camera, url in zip(ids, urls, strict=True)
        ]
        deadline = time.monotonic() + 30
        while len(rates) < len(urls) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if len(rates) < len(urls):
            raise RuntimeError(f"only {len(rates)} of {len(urls)} cameras came online: {statuses}")
        await asyncio.sleep(warmup)
        rates.clear()
        window, readers = await measure_window("reader_child.py", seconds, server_processes())
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    for camera in ids:  # one camera's files are stored one after another, in order
        dated = [entry for entry in recorder.stored if entry[0] == camera]
        for closed, (_, started_at, ended_at, when) in zip(
            [s for s in segments if s.camera == camera], dated, strict=True
        ):
            closed.started_at, closed.ended_at = started_at, ended_at
            closed.stored_after = when - ended_at.timestamp()
    result = cpu_figures(window, len(urls), readers)
    result["packets_per_s"] = round(sum(sum(r) / len(r) for r in rates.values()) / max(1, len(rates)), 2)
    result.update(gap_figures(segments, ids))
    if statuses:
        result["other_statuses"] = statuses
    return result


def cpu_figures(window: Window, cameras: int, children: int) -> dict[str, Any]:
    readers = sum(window.children.values())
    total = readers + window.own
    return {
        "cameras": cameras,
        "children": children,
        "children_measured": len(window.children),
        "seconds": round(window.wall, 2),
        "cpu_pct_per_camera": round(100 * total / window.wall / cameras, 2),
        "children_cpu_pct_per_camera": round(100 * readers / window.wall / cameras, 2),
        "own_cpu_pct_per_camera": round(100 * window.own / window.wall / cameras, 2),
        "total_cpu_pct_of_machine": round(100 * total / window.wall / CORES, 2),
        "servers_cpu_pct_of_machine": round(100 * window.servers / window.wall / CORES, 2),
        "machine_busy_pct": round(100 * window.machine_busy / window.wall / CORES, 1),
    }


def gap_figures(segments: list[Stored], cameras: list[uuid.UUID]) -> dict[str, Any]:
    """Gaps between consecutive files of each camera: on the stream's clock (SegmentClosed)
    and as dated for the clips (started_at / ended_at); and pictures against duration."""
    stream_gaps: list[float] = []
    wall_gaps: list[float] = []
    missing = 0
    for camera in cameras:
        mine = [s for s in segments if s.camera == camera]
        for earlier, later in itertools.pairwise(mine):
            stream_gaps.append(later.stream_start - earlier.stream_end)
            if earlier.ended_at is not None and later.started_at is not None:
                wall_gaps.append((later.started_at - earlier.ended_at).total_seconds())
        missing += sum(round((s.stream_end - s.stream_start) * FPS) - s.pictures for s in mine)
    full = [s for s in segments if s.stream_end - s.stream_start > 0]
    return {
        "segments": len(segments),
        "segment_s_median": round(sorted(s.stream_end - s.stream_start for s in full)[len(full) // 2], 2)
        if full
        else None,
        "max_gap_stream_ms": round(1000 * max(stream_gaps), 2) if stream_gaps else None,
        "max_gap_dated_ms": round(1000 * max(wall_gaps), 2) if wall_gaps else None,
        "max_overlap_ms": round(-1000 * min(min(stream_gaps, default=0), min(wall_gaps, default=0), 0), 2) + 0.0,
        "pictures_missing": missing,
        "max_store_delay_s": round(max(s.stored_after for s in segments), 2) if segments else None,
    }


async def plain_phase(
    urls: list[str], *, decode: bool, segment: float, warmup: float, seconds: float, scratch: Path
) -> dict[str, Any]:
    """The baseline: one plain PyAV child per URL (stream copy, or decoding every picture)."""
    folder = scratch / f"plain-{len(urls)}-{int(decode)}"
    marker = "--plain-child"
    processes = []
    try:
        for index, url in enumerate(urls):
            into = folder / str(index)
            into.mkdir(parents=True)
            command = [sys.executable, __file__, marker, url, str(into), str(segment), "1" if decode else "0"]
            processes.append(await asyncio.create_subprocess_exec(*command))
        await asyncio.sleep(warmup + 1.5)  # its start-up (imports, connection) is not counted
        ended = [p.returncode for p in processes if p.returncode is not None]
        if ended:
            raise RuntimeError(f"a plain PyAV child ended early: {ended}")
        window, children = await measure_window(marker, seconds, server_processes())
        files = sum(len(list(path.iterdir())) for path in folder.iterdir())
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
        shutil.rmtree(folder, ignore_errors=True)
    result = cpu_figures(window, len(urls), children)
    # This process does nothing for the baseline but wait: its share is left out.
    result["cpu_pct_per_camera"] = result["children_cpu_pct_per_camera"]
    result["total_cpu_pct_of_machine"] = round(100 * sum(window.children.values()) / window.wall / CORES, 2)
    # For reference: this process meanwhile (waiting), the floor under the worker's own share.
    result["idle_bench_cpu_pct_per_camera"] = result.pop("own_cpu_pct_per_camera")
    if not decode:
        result["files_open_at_end"] = files
    return result


def ratio(mine: dict[str, Any], base: dict[str, Any]) -> float | None:
    value, against = mine["cpu_pct_per_camera"], base["cpu_pct_per_camera"]
    return round(value / against, 3) if against else None


# --- The run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace, clip: Path, scratch: Path) -> dict[str, Any]:
    common = {"segment": args.segment, "warmup": args.warmup, "seconds": args.seconds, "scratch": scratch}
    per_n: dict[str, Any] = {}
    for count in args.cameras:
        entry: dict[str, Any] = {}
        for phase in ("recorder", "copy", "viewer"):
            progress(f"N={count}: {phase} ({args.warmup:g} s warm-up, {args.seconds:g} s measured)")
            with cameras(clip, count) as urls:
                if phase == "copy":
                    entry[phase] = await plain_phase(urls, decode=False, **common)
                else:
                    watching = phase == "viewer"
                    entry[phase] = await worker_phase(urls, mode="continuous", watching=watching, **common)
            progress(f"N={count}: {phase}: {json.dumps(entry[phase])}")
        recorder, copy, viewer = entry["recorder"], entry["copy"], entry["viewer"]
        entry["ratio_cpu_recorder_to_copy"] = ratio(recorder, copy)
        # The reader children alone (without the worker's own share) against the same copy.
        children, copied = recorder["children_cpu_pct_per_camera"], copy["cpu_pct_per_camera"]
        entry["ratio_cpu_children_to_copy"] = round(children / copied, 3) if copied else None
        entry["viewer_adds_cpu_pct_per_camera"] = round(
            viewer["cpu_pct_per_camera"] - recorder["cpu_pct_per_camera"], 2
        )
        gap = recorder["max_gap_stream_ms"]
        entry["ok"] = {
            "cpu_ratio": entry["ratio_cpu_recorder_to_copy"] is not None
            and entry["ratio_cpu_recorder_to_copy"] <= GOAL_CPU_RATIO,
            "gap": gap is not None
            and max(gap, recorder["max_gap_dated_ms"] or 0.0, viewer["max_gap_stream_ms"] or 0.0) <= GOAL_GAP_MS,
        }
        per_n[str(count)] = entry
    result: dict[str, Any] = {"per_n": per_n}
    largest = str(max(args.cameras))
    share = per_n[largest]["recorder"]["total_cpu_pct_of_machine"]
    result["machine_share_no_viewer"] = {"cameras": int(largest), "pct_of_machine": share, "ok": share < 50}
    if args.motion_cameras:
        count = args.motion_cameras
        motion: dict[str, Any] = {}
        for phase in ("motion", "decode"):
            progress(f"N={count}: {phase} ({args.warmup:g} s warm-up, {args.seconds:g} s measured)")
            with cameras(clip, count) as urls:
                if phase == "decode":
                    motion[phase] = await plain_phase(urls, decode=True, **common)
                else:
                    motion[phase] = await worker_phase(urls, mode="motion", watching=False, **common)
            progress(f"N={count}: {phase}: {json.dumps(motion[phase])}")
        # In motion mode the child decodes every packet (reader_child.read: every=watching).
        motion["decode_fps_per_camera"] = motion["motion"]["packets_per_s"]
        motion["ratio_cpu_motion_to_decode"] = ratio(motion["motion"], motion["decode"])
        base = per_n.get(str(count), {}).get("recorder")
        if base:
            motion["motion_adds_cpu_pct_per_camera"] = round(
                motion["motion"]["cpu_pct_per_camera"] - base["cpu_pct_per_camera"], 2
            )
        result["motion"] = motion
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--plain-child":
        url, folder, seconds, decode = sys.argv[2:6]
        plain_child(url, folder, float(seconds), decode == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cameras", default="1,4,8", help="comma-separated N (default 1,4,8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase (default 20)")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds after every camera is online (default 4)")
    parser.add_argument("--segment", type=float, default=4.0, help="segment length in seconds (default 4)")
    parser.add_argument("--motion-cameras", type=int, default=1, help="cameras of the motion phase (0: none)")
    parser.add_argument("--no-motion", action="store_true", help="skip the motion phases")
    parser.add_argument("--noise", type=float, default=2.25, help="grey levels of noise: bitrate (2.25: ~3.5 Mbit/s)")
    parser.add_argument("--keep", type=Path, help="write the clip into this folder and keep it (reused)")
    args = parser.parse_args()
    args.cameras = [int(part) for part in args.cameras.split(",") if part.strip()]
    if args.no_motion:
        args.motion_cameras = 0

    sys.path.insert(0, str(ROOT))
    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nvr.settings")
    os.environ["NVR_DATA_DIR"] = str(scratch / "data")  # nothing of a real site is touched
    os.environ["NVR_CAMERA_ALLOWED_NETWORKS"] = "127.0.0.1/32"  # the cameras run here
    import django

    django.setup()
    from tools.rtsp_testing import missing

    why = missing()
    if why:
        sys.exit(f"the RTSP server cannot run: {why} (bin/install-rtsp-server)")
    started = time.monotonic()
    try:
        clip_folder = args.keep or scratch
        clip_folder.mkdir(parents=True, exist_ok=True)
        # Each phase: servers start, cameras connect (a few s), warm-up, window, stop.
        clip = make_camera_clip(clip_folder, args.warmup + args.seconds + 25, args.noise)
        kbps = round(clip.stat().st_size * 8 / clip_seconds(clip) / 1000)
        result = asyncio.run(run(args, clip, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    line = {
        "bench": "ingest",
        "how": "run_camera (devices.ingest.worker) in this process with StreamReader children; "
        "a recorder that stores nothing (no database, no encryption, no Celery analysis)",
        "stream": {"width": WIDTH, "height": HEIGHT, "fps": FPS, "kbps": kbps, "gop_s": 2},
        "segment_s": args.segment,
        "seconds": args.seconds,
        "cores": CORES,
        **result,
        "goals": {
            "cpu_ratio_max": GOAL_CPU_RATIO,
            "gap_ms_max": round(GOAL_GAP_MS, 1),
            "machine_share_max_pct": 100 * GOAL_MACHINE_SHARE,
        },
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "run_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
