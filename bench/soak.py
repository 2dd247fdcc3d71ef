"""Misdelivery soak: does anything reach the wrong household under reconnects and a Redis restart?

    .venv/bin/python bench/soak.py [--seconds 60] [--households 20] [--outage 3]

Real processes: a Redis server of its own on a free port (never the machine's
6379), two daphne processes on its channel layer and cache, PostgreSQL (the
``nvr_soak`` database made by ``bin/pg-setup``, migrated; or ``--database-url``).
Every household has push cameras that send JPEGs stamped with their household and
camera (``soak_stamp.py``) over ``/ws/device/`` to either daphne, and viewers that
watch over ``/ws/live/`` on either daphne, dropping and reconnecting throughout.
Meanwhile HTTP clients page through households' recordings API and timeline and
fetch thumbnails (each stamped with its household). Halfway through, the soak's
Redis is killed and started again ``--outage`` seconds later.

Prints one JSON line: frames and responses checked, how many reached a wrong
household (``misdelivered``, must be 0), reconnection figures and the frame rate
after the restart against the rate before it (the baseline, same run). Exits 1 if
anything was misdelivered. Progress on stderr. See ``bench/README.md``.
"""

import argparse
import asyncio
import functools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from soak_stamp import read_stamp, stamp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SOAK_DATABASE = "nvr_soak"
# Variables of the caller's shell that would point the soak's site elsewhere.
SCRUBBED_ENV = (
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "REDIS_URL",
    "NVR_CACHE_URL",
    "CELERY_BROKER_URL",
    "NVR_PRODUCTION",
    "NVR_ALLOWED_ORIGINS",
)
UUID_RE = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A server subprocess that is ready once its log says so."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path, ready: str) -> None:
        self.name, self.command, self.env, self.log_path, self.ready = name, command, env, log_path, ready
        self.popen: subprocess.Popen[bytes] | None = None
        self.log: TextIO | None = None

    def start(self) -> None:
        self.log = self.log_path.open("a")
        offset = self.log_path.stat().st_size
        self.popen = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self.ready not in self.log_path.read_text(errors="replace")[offset:]:
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self, *, kill: bool = False) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.log is not None:
            self.log.close()
            self.log = None


@dataclass
class Household:
    account: uuid.UUID
    cameras: list[tuple[uuid.UUID, str]]  # id, device token
    recordings: set[uuid.UUID]
    cookies: list[str]
    ids: set[bytes] = field(default_factory=set)  # every id of this household, as it appears in a body


@dataclass
class Figures:
    frames_sent: int = 0
    frames_checked: int = 0
    frames_misdelivered: int = 0  # another household's camera
    frames_wrong_camera: int = 0  # the household's other camera
    frames_unstamped: int = 0
    frames_by_household: Counter[uuid.UUID] = field(default_factory=Counter)
    responses_checked: int = 0
    responses_misdelivered: int = 0
    http_errors: Counter[str] = field(default_factory=Counter)
    viewer_connects: int = 0
    viewer_refused: Counter[str] = field(default_factory=Counter)
    viewer_closed: Counter[str] = field(default_factory=Counter)
    camera_connects: int = 0
    camera_refused: Counter[str] = field(default_factory=Counter)
    camera_closed: Counter[str] = field(default_factory=Counter)
    frame_times: list[float] = field(default_factory=list)  # receive times of checked frames
    cameras_seen: set[uuid.UUID] = field(default_factory=set)  # cameras whose frames reached their viewers
    first_after_restart: dict[uuid.UUID, float] = field(default_factory=dict)  # camera -> first frame after Redis
    redis_down_at: float | None = None
    redis_up_at: float | None = None


def refusal(error: BaseException) -> str:
    if isinstance(error, InvalidStatus):
        return f"http {error.response.status_code}"
    if isinstance(error, ConnectionClosed):
        return f"close {error.rcvd.code if error.rcvd else 'none'}"
    cause = f": {type(error.__cause__).__name__}" if error.__cause__ else ""
    return type(error).__name__ + cause


RAMP_SECONDS = 5.0  # clients start spread over this long, as a site's clients do after a deploy
# Handshakes in flight at once, over both servers: a socket daphne drops before its application
# accepted it wastes the work done for it, so a herd of connects can starve every one of them.
HANDSHAKES = asyncio.Semaphore(8)
OPEN_TIMEOUT = 30.0  # longer than daphne's accept timeout: the server decides when a socket is refused


@dataclass
class Clock:
    """When the clients stop: far off during the warm-up, then the end of the measured window."""

    stop_at: float
    warmup_from: float = field(default_factory=time.monotonic)
    started: float = 0.0  # the measured window's start (counts include the warm-up: a misdelivery is one anytime)

    def running(self) -> bool:
        return time.monotonic() < self.stop_at


async def ramp(clock: Clock) -> None:
    await asyncio.sleep(min(random.uniform(0.0, RAMP_SECONDS), max(0.0, clock.stop_at - time.monotonic())))


async def backoff(failures: int) -> None:
    """Retry as a browser or camera should: later each time, with jitter. Retrying at once,
    every client together, keeps a loaded server from ever accepting anyone (daphne drops
    sockets its application has not accepted within 5 s)."""
    await asyncio.sleep(random.uniform(0.5, 1.0) * min(2 ** (failures - 1), 8))


async def camera_loop(
    household: Household, camera: uuid.UUID, token: str, servers: list[str], clock: Clock, fps: float, fig: Figures
) -> None:
    """Push stamped frames to either server, moving to another one every few seconds."""
    seq, failures = 0, 0
    await ramp(clock)
    while clock.running():
        base = random.choice(servers)
        try:
            async with HANDSHAKES:
                opened = await connect(
                    f"{base}/ws/device/",
                    additional_headers=[("Authorization", f"Bearer {token}")],
                    open_timeout=OPEN_TIMEOUT,
                    ping_interval=None,
                    compression=None,
                )
            async with opened as sock:
                fig.camera_connects += 1
                failures = 0
                leave_at = min(clock.stop_at, time.monotonic() + random.uniform(4.0, 12.0))
                while time.monotonic() < leave_at:
                    await sock.send(stamp(seq, household.account, camera))
                    seq += 1
                    fig.frames_sent += 1
                    await asyncio.sleep(1.0 / fps)
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as error:
            counter = fig.camera_closed if isinstance(error, ConnectionClosed) else fig.camera_refused
            counter[refusal(error)] += 1
            failures += 1
            await backoff(failures)


async def viewer_loop(
    household: Household,
    camera: uuid.UUID,
    cookie: str,
    servers: list[str],
    clock: Clock,
    fig: Figures,
    hold: tuple[float, float],
) -> None:
    """Watch the camera on either server for ``hold`` seconds at a time, checking every frame's stamp."""
    failures = 0
    await ramp(clock)
    while clock.running():
        base = random.choice(servers)
        try:
            async with HANDSHAKES:
                opened = await connect(
                    f"{base}/ws/live/{camera}/",
                    additional_headers=[("Cookie", f"sessionid={cookie}")],
                    origin=Origin(base.replace("ws://", "http://", 1)),
                    open_timeout=OPEN_TIMEOUT,
                    ping_interval=None,
                    compression=None,
                )
            async with opened as sock:
                fig.viewer_connects += 1
                failures = 0
                leave_at = min(clock.stop_at, time.monotonic() + random.uniform(*hold))
                while (remaining := leave_at - time.monotonic()) > 0:
                    try:
                        message = await asyncio.wait_for(sock.recv(), remaining)
                    except TimeoutError:
                        break
                    if isinstance(message, str):
                        continue  # the camera's status
                    check_frame(message, household, camera, fig)
                    await sock.send("ack")
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as error:
            counter = fig.viewer_closed if isinstance(error, ConnectionClosed) else fig.viewer_refused
            counter[refusal(error)] += 1
            failures += 1
            await backoff(failures)


def check_frame(message: bytes, household: Household, camera: uuid.UUID, fig: Figures) -> None:
    now = time.monotonic()
    found = read_stamp(message)
    fig.frames_checked += 1
    if found is None:
        fig.frames_unstamped += 1
        return
    if found.account != household.account:
        fig.frames_misdelivered += 1
        progress(f"MISDELIVERED frame: camera {found.camera} of {found.account} reached a viewer of {camera}")
        return
    if found.camera != camera:
        fig.frames_wrong_camera += 1
        return
    fig.frames_by_household[household.account] += 1
    fig.cameras_seen.add(camera)
    fig.frame_times.append(now)
    if fig.redis_up_at is not None and now > fig.redis_up_at:
        fig.first_after_restart.setdefault(camera, now)


def check_response(body: bytes, household: Household, everyone: set[bytes], fig: Figures, url: str) -> None:
    """Any id in the body that is another household's, from this run, is a misdelivery."""
    fig.responses_checked += 1
    foreign = (set(UUID_RE.findall(body)) & everyone) - household.ids
    if foreign:
        fig.responses_misdelivered += 1
        progress(f"MISDELIVERED response: {url} for {household.account} carried {sorted(foreign)[:3]}")


@dataclass
class Answer:
    status_code: int
    content: bytes


def http_get(url: str, headers: dict[str, str]) -> Answer:
    """GET without following redirects' surprises: the soak only asks for pages that answer 200."""
    try:
        with urlopen(Request(url, headers=headers), timeout=15) as response:  # noqa: S310  (http://127.0.0.1 only)
            return Answer(response.status, response.read())
    except HTTPError as error:
        return Answer(error.code, error.read())


def page_through(
    http: list[str], households: list[Household], everyone: set[bytes], clock: Clock, fig: Figures, seed: int
) -> None:
    """A browser-like client: a random household's timeline page, its recordings API pages, some thumbnails."""
    chance = random.Random(seed)
    while clock.running():
        household = chance.choice(households)
        base = chance.choice(http)
        headers = {"Cookie": f"sessionid={chance.choice(household.cookies)}"}
        try:
            fetch(f"{base}/recordings/", headers, household, everyone, fig, html=True)
            url: str | None = f"{base}/api/v1/recordings/?page_size=5"
            thumbnails: list[str] = []
            while url and clock.running():
                data = fetch(url, headers, household, everyone, fig)
                if data is None:
                    break
                for result in data["results"]:
                    if uuid.UUID(result["id"]) not in household.recordings:
                        fig.responses_misdelivered += 1
                        progress(f"MISDELIVERED: recording {result['id']} listed for {household.account}")
                    if result.get("thumbnail_url"):
                        thumbnails.append(result["thumbnail_url"])
                url = data.get("next")
            for path in chance.sample(thumbnails, min(2, len(thumbnails))):
                response = http_get(f"{base}{path}", headers)
                if response.status_code != 200:
                    fig.http_errors[str(response.status_code)] += 1
                    continue
                fig.responses_checked += 1
                found = read_stamp(response.content)
                if found is None or found.account != household.account:
                    fig.responses_misdelivered += 1
                    progress(f"MISDELIVERED thumbnail {path} for {household.account}: {found}")
            time.sleep(0.5)  # a person reading the page: leaves the cores to the live path
        except (URLError, OSError) as error:
            fig.http_errors[type(error).__name__] += 1
            time.sleep(0.2)


def fetch(
    url: str,
    headers: dict[str, str],
    household: Household,
    everyone: set[bytes],
    fig: Figures,
    *,
    html: bool = False,
) -> Any:
    response = http_get(url, headers)
    if response.status_code != 200:
        fig.http_errors[str(response.status_code)] += 1
        return None
    check_response(response.content, household, everyone, fig, url)
    return None if html else json.loads(response.content)


async def restart_redis(redis: Process, outage: float, fig: Figures) -> None:
    progress(f"Redis: killed ({fig.frames_checked} frames checked so far, {fig.viewer_connects} viewer connections)")
    fig.redis_down_at = time.monotonic()
    await asyncio.to_thread(redis.stop, kill=True)
    await asyncio.sleep(outage)
    await asyncio.to_thread(redis.start)
    fig.redis_up_at = time.monotonic()
    progress(f"Redis: started again after {fig.redis_up_at - fig.redis_down_at:.1f} s")


async def warm_up(households: list[Household], fig: Figures, limit: float) -> None:
    """Until a frame of every camera reached a viewer (or ``limit`` seconds): a loaded machine
    takes a while to accept every socket, and the measured window should not include that."""
    cameras = {camera for household in households for camera, _ in household.cameras}
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not cameras <= fig.cameras_seen:
        await asyncio.sleep(0.2)
    progress(f"warm-up: {len(fig.cameras_seen)} of {len(cameras)} cameras seen by a viewer")


async def soak(
    args: argparse.Namespace, households: list[Household], ports: list[int], redis: Process, fig: Figures
) -> Clock:
    ws = [f"ws://127.0.0.1:{port}" for port in ports]
    http = [f"http://127.0.0.1:{port}" for port in ports]
    everyone = set().union(*(household.ids for household in households))
    clock = Clock(stop_at=time.monotonic() + args.warmup + args.seconds)
    tasks = []
    for household in households:
        for camera, token in household.cameras:
            tasks.append(asyncio.create_task(camera_loop(household, camera, token, ws, clock, args.fps, fig)))
            for index in range(args.viewers):
                cookie = household.cookies[index % len(household.cookies)]
                tasks.append(asyncio.create_task(viewer_loop(household, camera, cookie, ws, clock, fig, args.hold)))
    # Each client thread counts into its own Figures, merged at the end: no shared counters across threads.
    pagers = [Figures() for _ in range(args.http_clients)]
    # Threads of their own: the loop's default executor is small, and the Redis restart needs it.
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=max(1, args.http_clients)) as pool:
        for seed, own in enumerate(pagers):
            work = functools.partial(page_through, http, households, everyone, clock, own, seed)
            tasks.append(asyncio.ensure_future(loop.run_in_executor(pool, work)))
        await warm_up(households, fig, args.warmup)
        clock.started = time.monotonic()
        clock.stop_at = clock.started + args.seconds
        progress(f"measuring for {args.seconds:g} s")
        await asyncio.sleep(args.seconds / 2)
        await restart_redis(redis, args.outage, fig)
        await asyncio.gather(*tasks)
    for own in pagers:
        fig.responses_checked += own.responses_checked
        fig.responses_misdelivered += own.responses_misdelivered
        fig.http_errors.update(own.http_errors)
    return clock


def rate(times: list[float], start: float, end: float) -> float | None:
    if end <= start:
        return None
    return sum(1 for moment in times if start <= moment < end) / (end - start)


def report(args: argparse.Namespace, households: list[Household], fig: Figures, clock: Clock) -> dict[str, Any]:
    cameras = sum(len(household.cameras) for household in households)
    down, up = fig.redis_down_at, fig.redis_up_at
    # The baseline: the frame rate viewers got in the measured window before Redis was killed;
    # against it, the rate from 3 s after Redis came back to the end.
    before = rate(fig.frame_times, clock.started, down) if down else None
    after = rate(fig.frame_times, up + 3.0, clock.stop_at) if up else None
    recovery = [moment - up for moment in fig.first_after_restart.values()] if up else []
    per_household = [fig.frames_by_household[household.account] for household in households]
    misdelivered = fig.frames_misdelivered + fig.responses_misdelivered
    return {
        "bench": "soak",
        "seconds": args.seconds,
        "warmup_s": round(clock.started - clock.warmup_from, 1),
        "households": len(households),
        "cameras": cameras,
        "viewers": cameras * args.viewers,
        "http_clients": args.http_clients,
        "frames_sent": fig.frames_sent,
        "frames_checked": fig.frames_checked,
        "responses_checked": fig.responses_checked,
        "misdelivered": misdelivered,
        "frames_misdelivered": fig.frames_misdelivered,
        "responses_misdelivered": fig.responses_misdelivered,
        "frames_wrong_camera": fig.frames_wrong_camera,
        "frames_unstamped": fig.frames_unstamped,
        "frames_checked_per_household_min": min(per_household, default=0),
        "households_without_frames": sum(1 for count in per_household if count == 0),
        "http_errors": dict(fig.http_errors),
        "reconnects": {
            "viewer_connects": fig.viewer_connects,
            "viewer_refused": dict(fig.viewer_refused),
            "viewer_closed_by_server": dict(fig.viewer_closed),
            "camera_connects": fig.camera_connects,
            "camera_refused": dict(fig.camera_refused),
            "camera_closed_by_server": dict(fig.camera_closed),
        },
        "redis_outage_s": round(up - down, 2) if up and down else None,
        "cameras_recovered": len(fig.first_after_restart),
        "recovery_s_max": round(max(recovery), 2) if recovery else None,
        "recovery_s_median": round(sorted(recovery)[len(recovery) // 2], 2) if recovery else None,
        "frames_per_s_before": round(before, 1) if before is not None else None,
        "frames_per_s_after": round(after, 1) if after is not None else None,
        "ratio_after_to_before": round(after / before, 3) if after is not None and before else None,
        "ok": misdelivered == 0
        and fig.frames_checked > 0
        and fig.responses_checked > 0
        and fig.frames_wrong_camera == 0
        and fig.frames_unstamped == 0,
    }


# --- Setup ----------------------------------------------------------------------


def run_step(command: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def database_urls(args: argparse.Namespace) -> dict[str, str]:
    if args.database_url:
        return {"DATABASE_URL": args.database_url, "DATABASE_OWNER_URL": args.owner_url or args.database_url}
    output = run_step(["bin/pg-setup"], {**os.environ, "NVR_PG_DATABASE": SOAK_DATABASE}, timeout=60)
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def load_households(data: dict[str, Any]) -> list[Household]:
    households = []
    for item in data["households"]:
        household = Household(
            account=uuid.UUID(item["account"]),
            cameras=[(uuid.UUID(camera["id"]), camera["token"]) for camera in item["cameras"]],
            recordings={uuid.UUID(key) for key in item["recordings"]},
            cookies=item["cookies"],
        )
        ids = [household.account, *(camera for camera, _ in household.cameras), *household.recordings]
        household.ids = {str(value).encode() for value in ids}
        households.append(household)
    return households


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the soak runs (the restart is halfway)")
    parser.add_argument("--households", type=int, default=20)
    parser.add_argument("--cameras", type=int, default=2, help="push cameras per household")
    parser.add_argument("--viewers", type=int, default=2, help="viewers per camera")
    parser.add_argument("--recordings", type=int, default=6, help="ready clips per camera")
    parser.add_argument("--fps", type=float, default=5.0, help="each camera's frame rate")
    parser.add_argument("--http-clients", type=int, default=3, help="threads paging through timelines")
    parser.add_argument(
        "--accept-timeout",
        type=float,
        default=20.0,
        help="daphne's --websocket_connect_timeout (its default, 5 s, drops most sockets on a busy 2-core machine)",
    )
    parser.add_argument(
        "--warmup", type=float, default=60.0, help="at most this long for every camera to reach a viewer first"
    )
    parser.add_argument(
        "--hold",
        default="4,12",
        help="MIN,MAX seconds a viewer stays connected before it drops and reconnects (default 4,12)",
    )
    parser.add_argument("--outage", type=float, default=3.0, help="seconds the soak's Redis stays down")
    parser.add_argument("--database-url", help=f"the site's database (default: {SOAK_DATABASE} from bin/pg-setup)")
    parser.add_argument("--owner-url", help="the owner role's URL for --database-url (for migrate)")
    parser.add_argument("--no-migrate", dest="migrate", action="store_false", help="the database is migrated already")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and the server logs")
    args = parser.parse_args()
    try:
        low, high = (float(part) for part in args.hold.split(","))
    except ValueError:
        parser.error("--hold takes MIN,MAX seconds")
    args.hold = (low, max(low, high))
    if args.seconds < 6 or args.households < 2 or args.cameras < 1 or args.viewers < 1 or args.fps <= 0:
        parser.error("--seconds >= 6, --households >= 2, --cameras and --viewers >= 1, --fps > 0")
    if shutil.which("redis-server") is None:
        parser.error("redis-server is not installed (the soak starts one of its own)")
    return args


def main() -> None:
    args = parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="nvr-soak-"))
    redis_port, ports = free_port(), [free_port(), free_port()]
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED_ENV}
    env.update(
        database_urls(args),
        NVR_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="nvr.settings",
        PYTHONPATH=str(ROOT),
        DEBUG="0",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        NVR_CACHE_URL=f"redis://127.0.0.1:{redis_port}/1",
        NVR_ALLOWED_ORIGINS=",".join(f"http://127.0.0.1:{port}" for port in ports),
    )
    redis = Process(
        "redis",
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
        ],
        env,
        data_dir / "redis.log",
        ready="Ready to accept connections",
    )
    servers = [
        Process(
            f"daphne-{port}",
            [
                PYTHON,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                f"--websocket_connect_timeout={args.accept_timeout:g}",
                "nvr.asgi:application",
            ],
            env,
            data_dir / f"daphne-{port}.log",
            ready=f"Listening on TCP address 127.0.0.1:{port}",
        )
        for port in ports
    ]
    fig = Figures()
    try:
        redis.start()
        progress(f"Redis on port {redis_port}; site in {data_dir}")
        if args.migrate:
            progress("migrate")
            run_step([PYTHON, "manage.py", "migrate", "--noinput"], env, timeout=300)
        progress(f"{args.households} households x {args.cameras} cameras, {args.recordings} clips per camera")
        setup = [
            PYTHON,
            "bench/soak_setup.py",
            f"--households={args.households}",
            f"--cameras={args.cameras}",
            f"--recordings={args.recordings}",
            f"--sessions={args.viewers}",
        ]
        households = load_households(json.loads(run_step(setup, env, timeout=300).strip().splitlines()[-1]))
        for server in servers:
            server.start()
        progress(f"daphne on ports {ports}; soak for {args.seconds:g} s, Redis killed halfway for {args.outage:g} s")
        clock = asyncio.run(soak(args, households, ports, redis, fig))
        line = report(args, households, fig, clock)
    finally:
        for process in (*servers, redis):
            process.stop()
        if args.keep:
            progress(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    sys.exit(0 if line["ok"] else 1)


if __name__ == "__main__":
    main()
