"""Clip upload through daphne (tus, hashing and encryption included) against a plain write to the same disk.

    .venv/bin/python bench/upload.py                      # 200 MiB clip, then 20 cameras x 10 MiB; 8 MiB parts
    .venv/bin/python bench/upload.py --size-mb 100 --cameras 10 --camera-mb 5 --repeat 1
    .venv/bin/python bench/upload.py --keep                # keep the temporary site (daphne.log)

A throwaway site (a temporary ``NVR_DATA_DIR``: SQLite and the local media
folder, the embedded defaults; ``manage.py migrate``; one household with
``--cameras`` push cameras and their tokens), and ``daphne
nvr.asgi:application`` as the demo runs it. No Celery worker runs: processing
is not part of this measure (the queued tasks stay in the temporary broker).

1. Baseline, in the same run: the same number of bytes written to a file in the
   media folder (same filesystem as the clips) in 8 MiB writes, fsync at the
   end. Measured before and after the uploads; the median counts.
2. One clip of ``--size-mb`` MiB (random bytes) through
   ``recordings.upload.client.upload_clip`` (creation-with-upload, then 8 MiB
   PATCHes, client-side SHA-256 included), ``--repeat`` times; the median
   counts. MB/s, ratio to the baseline (goal >= 0.5), and daphne's peak RSS
   growth: its peak (VmHWM) is reset before the upload (``clear_refs``), and
   growth = VmHWM after - VmRSS before (goal <= 64 MB).
   For reference, the same clip through the upload services in one process
   (no HTTP; hashing, encryption, writes and database): ``in_process_mb_s``.
3. ``--cameras`` cameras each uploading a ``--camera-mb`` MiB clip at once
   (a thread each): total MB/s, ratio, p50/p99 seconds per upload, memory growth.

Each stored clip is checked (size; the server verified its SHA-256). One JSON
line on stdout; progress on stderr. MB are 10**6 bytes; sizes are in MiB so
parts are whole encryption chunks.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recordings.upload.client import upload_clip  # noqa: E402  (after the path is set)

PYTHON = sys.executable
MIB = 1024 * 1024
WRITE_BLOCK = 8 * MIB
GOAL_RATIO = 0.5
GOAL_RSS_MB = 64
SCRUBBED_ENV = ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "CELERY_BROKER_URL", "NVR_PRODUCTION")
SETUP = """
import json, sys
sys.path.insert(0, "bench")
from nvr_setup import household
from accounts.tenancy import account_scope
from accounts.models import Membership
from devices.models import CameraKind
from devices.services import camera_create
data = household("a", 0)
tokens = [data["token"]]
with account_scope(data["account"]):
    owner = Membership.objects.get(account_id=data["account"])
    for index in range(1, {cameras}):
        _camera, token = camera_create(actor=owner, name=f"Camera {{index}}", kind=CameraKind.PUSH)
        tokens.append(token)
print(json.dumps(tokens))
"""

# The same clip through the upload services in one process, no HTTP: what hashing, encryption and
# the writes cost alone (the rest of the HTTP figure is daphne, Django and the client).
IN_PROCESS = """
import hashlib, io, json, sys, time
from datetime import UTC, datetime, timedelta
import django
django.setup()
from devices.credentials import authenticate
from recordings.upload.protocol import parse_creation
from recordings.upload.services import upload_append, upload_create
token, path, part = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
ended = datetime.now(UTC) - timedelta(seconds=5)
started = time.perf_counter()
digest = hashlib.sha256(data).hexdigest()
meta = {"sha256": digest, "started_at": (ended - timedelta(minutes=1)).isoformat(), "ended_at": ended.isoformat()}
import base64
header = ",".join(k + " " + base64.b64encode(v.encode()).decode() for k, v in meta.items())
spec = parse_creation(length=str(len(data)), metadata=header, idempotency_key=None)
state = upload_create(principal=authenticate(token, address="127.0.0.1"), spec=spec, read=None, count=0)
offset = 0
while state.recording_id is None:
    body = data[offset : offset + part]
    principal = authenticate(token, address="127.0.0.1")
    state = upload_append(
        principal=principal, upload_id=state.upload_id, offset=offset, read=io.BytesIO(body).read, count=len(body)
    )
    offset = state.offset
print(json.dumps(len(data) / 1e6 / (time.perf_counter() - started)))
"""

_started = time.monotonic()


def progress(message: str) -> None:
    sys.stderr.write(f"[{time.monotonic() - _started:6.1f}s] {message}\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status(pid: int, field: str) -> float:
    """A ``/proc/<pid>/status`` memory field (VmRSS, VmHWM), in MB (10**6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    """Make VmHWM the current RSS (Linux >= 4.0), so the next peak is this phase's own."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def run_step(command: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def make_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as handle:
        for index in range(size // MIB):
            # Different bytes per MiB (a repeated block would let nothing cheat, but keep it honest).
            handle.write(index.to_bytes(8, "big") + block[8:])
        handle.write(block[: size % MIB])


def disk_write(folder: Path, size: int) -> float:
    """MB/s of writing ``size`` bytes in 8 MiB writes with one fsync at the end."""
    block = os.urandom(WRITE_BLOCK)
    path = folder / "baseline.bin"
    started = time.perf_counter()
    with path.open("wb") as handle:
        written = 0
        while written < size:
            count = min(WRITE_BLOCK, size - written)
            handle.write(block if count == WRITE_BLOCK else block[:count])
            written += count
        handle.flush()
        os.fsync(handle.fileno())
    seconds = time.perf_counter() - started
    path.unlink()
    return size / 1e6 / seconds


def times() -> tuple[datetime, datetime]:
    ended = datetime.now(UTC) - timedelta(seconds=5)
    return ended - timedelta(seconds=60), ended


def timed_upload(url: str, token: str, path: Path, chunk_size: int) -> tuple[float, str]:
    started_at, ended_at = times()
    started = time.perf_counter()
    recording_id = upload_clip(url, token, path, started_at=started_at, ended_at=ended_at, chunk_size=chunk_size)
    return time.perf_counter() - started, recording_id


def stored_size(media: Path, recording_id: str) -> int:
    found = list(media.glob(f"accounts/*/clips/*/{recording_id.replace('-', '')}.nvrc"))
    return found[0].stat().st_size if found else -1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Daphne:
    def __init__(self, env: dict[str, str], log_path: Path, extra: list[str]) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.log: TextIO = log_path.open("w")
        command = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), *extra, "nvr.asgi:application"]
        self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while f"Listening on TCP address 127.0.0.1:{self.port}" not in log_path.read_text(errors="replace"):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200, help="the single clip's size in MiB (default 200)")
    parser.add_argument("--cameras", type=int, default=20, help="cameras uploading at once (default 20)")
    parser.add_argument("--camera-mb", type=int, default=10, help="each camera's clip in MiB (default 10)")
    parser.add_argument("--chunk-mb", type=int, default=8, help="the client's part size in MiB (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="single-clip uploads; the median counts (default 3)")
    parser.add_argument("--daphne-arg", action="append", default=[], help="an extra daphne argument (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site folder")
    args = parser.parse_args()
    if min(args.size_mb, args.cameras, args.camera_mb, args.chunk_mb, args.repeat) < 1:
        parser.error("sizes, counts and --repeat must be positive")
    return args


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="nvr-bench-upload-"))
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED_ENV}
    env.update(NVR_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="nvr.settings", PYTHONPATH=str(ROOT), DEBUG="0")
    media = data_dir / "media"
    daphne: Daphne | None = None
    try:
        progress(f"site in {data_dir}: migrate, a household with {args.cameras} cameras")
        run_step([PYTHON, "manage.py", "migrate", "--noinput"], env, timeout=180)
        tokens = json.loads(
            run_step([PYTHON, "-c", SETUP.format(cameras=args.cameras)], env, timeout=120).strip().splitlines()[-1]
        )
        media.mkdir(parents=True, exist_ok=True)
        size = args.size_mb * MIB
        clip = data_dir / "clip.bin"
        make_file(clip, size)
        small = data_dir / "camera.bin"
        make_file(small, args.camera_mb * MIB)
        chunk = args.chunk_mb * MIB

        daphne = Daphne(env, data_dir / "daphne.log", args.daphne_arg)
        pid = daphne.popen.pid
        progress(f"daphne pid {pid} on {daphne.url}; warm-up upload")
        timed_upload(daphne.url, tokens[0], small, chunk)

        baselines = [disk_write(media, size)]
        progress(f"disk write {baselines[0]:.0f} MB/s")
        single: list[float] = []
        growth: list[float] = []
        for run in range(args.repeat):
            rss_before = proc_status(pid, "VmRSS")
            reset_peak(pid)
            seconds, recording_id = timed_upload(daphne.url, tokens[0], clip, chunk)
            growth.append(proc_status(pid, "VmHWM") - rss_before)
            assert stored_size(media, recording_id) > size, "the clip was not stored"
            single.append(size / 1e6 / seconds)
            progress(f"single clip run {run + 1}: {single[-1]:.0f} MB/s, daphne peak growth {growth[-1]:.1f} MB")
        baselines.append(disk_write(media, size))
        progress(f"disk write {baselines[-1]:.0f} MB/s")
        in_process = [
            float(run_step([PYTHON, "-c", IN_PROCESS, tokens[0], str(clip), str(chunk)], env, 300).split()[-1])
            for _ in range(args.repeat)
        ]
        progress(f"the same clip through the services in one process: {in_process} MB/s")

        rss_before = proc_status(pid, "VmRSS")
        reset_peak(pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.cameras) as pool:
            results = list(
                pool.map(lambda token: timed_upload(daphne.url, token, small, chunk), tokens[: args.cameras])
            )
        wall = time.perf_counter() - started
        concurrent_growth = proc_status(pid, "VmHWM") - rss_before
        assert all(stored_size(media, recording_id) > 0 for _s, recording_id in results)
        total = args.cameras * args.camera_mb * MIB
        concurrent_mb_s = total / 1e6 / wall
        per_upload = [seconds for seconds, _id in results]
        baselines.append(disk_write(media, total))
        progress(f"{args.cameras} cameras: {concurrent_mb_s:.0f} MB/s in {wall:.1f} s")

        baseline = statistics.median(baselines)
        single_mb_s = statistics.median(single)
        line: dict[str, Any] = {
            "bench": "upload",
            "disk_write_mb_s": round(baseline, 1),
            "disk_write_runs": [round(value, 1) for value in baselines],
            "single": {
                "size_mib": args.size_mb,
                "chunk_mib": args.chunk_mb,
                "mb_s": round(single_mb_s, 1),
                "runs_mb_s": [round(value, 1) for value in single],
                "ratio": round(single_mb_s / baseline, 3),
                "in_process_mb_s": round(statistics.median(in_process), 1),
                "in_process_ratio": round(statistics.median(in_process) / baseline, 3),
                "rss_growth_mb": round(max(growth), 1),
                "rss_growth_runs_mb": [round(value, 1) for value in growth],
                "goal_ratio": GOAL_RATIO,
                "goal_rss_growth_mb": GOAL_RSS_MB,
                "ok": single_mb_s / baseline >= GOAL_RATIO and max(growth) <= GOAL_RSS_MB,
            },
            "concurrent": {
                "cameras": args.cameras,
                "clip_mib": args.camera_mb,
                "mb_s": round(concurrent_mb_s, 1),
                "ratio": round(concurrent_mb_s / baseline, 3),
                "p50_s": round(percentile(per_upload, 0.5), 3),
                "p99_s": round(percentile(per_upload, 0.99), 3),
                "wall_s": round(wall, 2),
                "rss_growth_mb": round(concurrent_growth, 1),
            },
            "daphne_args": args.daphne_arg,
            "daphne_idle_rss_mb": round(rss_before, 1),
        }
        sys.stdout.write(json.dumps(line) + "\n")
    finally:
        if daphne is not None:
            daphne.stop()
        if args.keep:
            progress(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
