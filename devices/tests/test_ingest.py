"""The pull ingest worker against a real MJPEG camera served from the test (no OpenCV mocks).

``MjpegServer`` is a tiny HTTP camera on 127.0.0.1: any path answers
``multipart/x-mixed-replace; boundary=frame`` with JPEG frames made by
OpenCV (a fixed number, or until the server stops), ``/missing…`` answers 404,
and with ``credentials`` it asks for HTTP Basic authentication first, as
real cameras do. OpenCV's FFmpeg backend reads it like any other camera.
"""

import asyncio
import base64
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from channels.db import database_sync_to_async

from accounts.models import Role
from accounts.tenancy import account_scope
from conftest import Household
from devices.addresses import check_address
from devices.consumers import is_jpeg
from devices.fanout import ViewerSlot, get_hub
from devices.ingest import IngestConfig, run_all
from devices.ingest.reader import JpegFrame, Message, Outcome, Packet, ReaderLimits, StreamReader
from devices.ingest.redaction import redact
from devices.ingest.worker import STATUS, run_camera
from devices.models import Camera, CameraKind, CameraStatus, LiveSession
from devices.services import camera_create, camera_update
from nvr import testing

SECRET = "secret"


# --- A camera on 127.0.0.1 ----------------------------------------------------------


def numbered_jpeg(n: int, size: tuple[int, int]) -> bytes:
    """Frame ``n``: a flat grey of level ``10 * n`` (readable back after JPEG), with its number."""
    image = np.full((size[1], size[0], 3), (10 * n) % 250, dtype=np.uint8)
    cv2.putText(image, str(n), (4, size[1] - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


@dataclass
class Hit:
    path: str
    started: float
    authorized: bool
    ended: float | None = None


class MjpegServer:
    def __init__(
        self,
        *,
        frames: int | None = 20,
        fps: float = 25,
        size: tuple[int, int] = (320, 240),
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.frames = frames
        self.fps = fps
        self.jpegs = [numbered_jpeg(n, size) for n in range(25)]
        self.credentials = credentials
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "MjpegServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "/stream.mjpg", *, user: str | None = None, password: str | None = None) -> str:
        userinfo = f"{user}:{password}@" if user else ""
        return f"http://{userinfo}127.0.0.1:{self.port}{path}"

    def hits_on(self, path: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path == path]

    def streaming(self, path: str) -> int:
        """Connections on ``path`` being served frames now."""
        return sum(1 for hit in self.hits_on(path) if hit.authorized and hit.ended is None)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                expected = None
                if server.credentials:
                    expected = "Basic " + base64.b64encode(":".join(server.credentials).encode()).decode()
                hit = Hit(self.path, time.monotonic(), self.headers.get("Authorization") == expected)
                with server.lock:
                    server.hits.append(hit)
                try:
                    self.answer(hit)
                finally:
                    hit.ended = time.monotonic()

            def answer(self, hit: Hit) -> None:
                if self.path.startswith("/missing"):
                    self.send_error(404)
                    return
                if not hit.authorized:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                n = 0
                try:
                    while not server.stopping.is_set() and (server.frames is None or n < server.frames):
                        jpeg = server.jpegs[n % len(server.jpegs)]
                        head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                        self.wfile.write(head.encode() + jpeg + b"\r\n")
                        self.wfile.flush()
                        n += 1
                        time.sleep(1 / server.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader went away

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def camera_server() -> Iterator[MjpegServer]:
    """An endless 320x240 stream at 25 frames a second that wants user:secret."""
    with MjpegServer(frames=None, fps=25, credentials=("user", SECRET)) as server:
        yield server


# --- Helpers ------------------------------------------------------------------------


def add_pull_camera(household: Household, name: str, url: str, *, enabled: bool = True) -> Camera:
    owner = household.memberships[Role.OWNER]
    with account_scope(household.account.pk):
        camera, token = camera_create(actor=owner, name=name, kind=CameraKind.PULL, source_url=url)
        if not enabled:
            camera = camera_update(actor=owner, camera=camera, enabled=False)
    assert token is None
    return camera


def fresh(camera: Camera) -> Camera:
    with account_scope(camera.account_id):
        return Camera.objects.get(pk=camera.pk)


def change_camera(household: Household, camera: Camera, **changes: Any) -> None:
    with account_scope(household.account.pk):
        camera_update(actor=household.memberships[Role.OWNER], camera=fresh(camera), **changes)


async def until(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)


def status_is(camera: Camera, status: CameraStatus) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        row = await database_sync_to_async(fresh)(camera)
        return row.status == status

    return check


def grey_level(jpeg: bytes) -> float:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return float(image[: image.shape[0] // 2].mean())  # above the number


def shape_of(jpeg: bytes) -> tuple[int, ...]:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return tuple(image.shape)


# --- Redaction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://user:secret@cam.local:554/s", "rtsp://cam.local:554/s"),
        ("rtsps://admin:secret@192.168.1.20/Streaming/Channels/101", "rtsps://192.168.1.20/Streaming/Channels/101"),
        ("http://user:se@cr/et@cam.local/video.mjpg", "http://cam.local/video.mjpg"),  # an unencoded @ and /
        ("rtsp://admin:p@ss?x#y@cam.local/s", "rtsp://cam.local/s"),  # and ? and #, as people type them
        ("http://user:p%40secret@[fe80::1]:8080/mjpg", "http://[fe80::1]:8080/mjpg"),
        ("http://secret@cam.local/mjpg", "http://cam.local/mjpg"),
        (
            "http://cam.local/video.cgi?user=admin&pwd=secret&res=hd",
            "http://cam.local/video.cgi?user=***&pwd=***&res=hd",
        ),
        ("rtsp://cam.local/live?token=secret#x", "rtsp://cam.local/live?token=***#x"),
        ("rtsp://cam.local:554/s?channel=1", "rtsp://cam.local:554/s?channel=1"),
    ],
)
def test_it_redacts_credentials_from_urls(url, shown):
    assert redact(url) == shown
    assert SECRET not in redact(url)


def test_it_never_shows_the_url_in_a_readers_repr():
    reader = StreamReader(check_address("rtsp://user:secret@127.0.0.1:554/s"), IngestConfig(), ReaderLimits())
    assert SECRET not in repr(reader)
    assert reader.where == "rtsp://127.0.0.1:554/s"


# --- IngestConfig ----------------------------------------------------------------------


def test_its_config_is_read_from_the_settings(settings):
    settings.INGEST_MAX_FPS = 4.0
    settings.INGEST_BACKOFF_MAX_S = 60.0
    settings.INGEST_SEGMENTS_DIR = Path("/srv/nvr/segments")
    config = IngestConfig.from_settings()
    # The rest: the settings' defaults.
    assert config == IngestConfig(max_fps=4.0, backoff_max=60.0, segments_dir="/srv/nvr/segments")


@pytest.mark.parametrize(
    "changes",
    [{"max_fps": 0}, {"max_fps": float("nan")}, {"read_timeout": -1}, {"backoff_base": 5, "backoff_max": 2}],
)
def test_its_config_refuses_values_that_cannot_work(changes):
    with pytest.raises(ValueError, match="ingest"):
        IngestConfig(**changes)


# --- The stream reader against the MJPEG server -------------------------------------------


def read_stream(
    url: str, config: IngestConfig, *, decode: bool = True, seconds: float = 10, first_only: bool = False
) -> tuple[list[Message], StreamReader]:
    """What a reader child sends for ``url`` until the stream ends (or ``seconds``)."""

    async def scenario() -> tuple[list[Message], StreamReader]:
        received: list[Message] = []
        async with StreamReader(check_address(url), config, ReaderLimits(), decode=decode, packets=True) as reader:
            try:
                async with asyncio.timeout(seconds):
                    async for message in reader.messages():
                        received.append(message)
                        if first_only and isinstance(message, JpegFrame):
                            break
            except TimeoutError:
                pass
        return received, reader

    return asyncio.run(scenario())


def jpegs_of(messages: list[Message]) -> list[bytes]:
    return [message.data for message in messages if isinstance(message, JpegFrame)]


@pytest.mark.parametrize("path", ["/stream.mjpg", "/video", "/cgi-bin/mjpeg?resolution=320x240"])
def test_it_reads_jpeg_frames_from_an_mjpeg_http_stream(path):
    with MjpegServer(frames=20, fps=50) as server:
        received, reader = read_stream(server.url(path), IngestConfig(max_fps=100))  # ends with the stream

    assert reader.outcome == Outcome.ENDED
    packets = [message for message in received if isinstance(message, Packet)]
    assert len(packets) == 20, "every frame the camera sent, as a packet"
    frames = jpegs_of(received)
    assert 5 <= len(frames) <= 20
    assert all(is_jpeg(frame) for frame in frames)
    assert {shape_of(frame) for frame in frames} == {(240, 320, 3)}
    levels = [grey_level(frame) for frame in frames]
    assert levels == sorted(levels), "frames arrive in the order the camera sent them"
    assert server.hits_on(path)


def test_it_reads_a_stream_that_asks_for_credentials():
    with MjpegServer(frames=5, credentials=("user", SECRET)) as server:
        refused, wrong = read_stream(server.url(user="user", password="wrong"), IngestConfig())
        received, right = read_stream(server.url(user="user", password=SECRET), IngestConfig(max_fps=100))
    assert refused == []
    assert wrong.outcome == Outcome.CREDENTIALS
    assert jpegs_of(received)
    assert right.outcome == Outcome.ENDED
    assert any(hit.authorized for hit in server.hits)


def test_it_downscales_wide_frames_to_1280_pixels():
    with MjpegServer(frames=3, size=(1920, 1080)) as server:
        received, _reader = read_stream(server.url(), IngestConfig(max_fps=100), first_only=True)
    assert shape_of(jpegs_of(received)[0]) == (720, 1280, 3)


def test_it_paces_a_faster_source_to_max_fps():
    with MjpegServer(frames=None, fps=50) as server:
        received, _reader = read_stream(server.url(), IngestConfig(max_fps=5), seconds=3)
    frames = jpegs_of(received)
    packets = [message for message in received if isinstance(message, Packet)]
    assert 8 <= len(frames) <= 5 * 3 + 2
    assert len(packets) > 3 * len(frames), "every packet is passed on; only some are decoded"


# --- run_camera -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_reports_a_redacted_error_when_the_stream_cannot_be_opened(world, caplog, capfd):
    caplog.set_level(logging.INFO, logger="nvr.ingest")
    url = "rtsp://user:secret@127.0.0.1:1/x"
    camera = add_pull_camera(world.a, "Garage", url)

    config = IngestConfig(max_fps=10, backoff_base=5, backoff_max=5)

    async def scenario() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(run_camera(camera.pk, camera.account_id, url, config=config, stop=stop))
        await until(status_is(camera, CameraStatus.ERROR), 10, "the ERROR status")
        stopping = time.monotonic()
        stop.set()  # while it waits 5 s before the next try
        await asyncio.wait_for(task, 5)
        return time.monotonic() - stopping

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) < 1, "stops at once, even while backing off"
    row = fresh(camera)
    assert row.status == CameraStatus.ERROR
    assert row.status_message.startswith(STATUS[Outcome.UNREACHABLE])
    assert row.live_fps == 0
    assert SECRET not in row.status_message
    assert "rtsp://127.0.0.1:1/x" in caplog.text  # the log says which address, without its credentials
    assert SECRET not in caplog.text
    assert SECRET not in capfd.readouterr().err  # nor does FFmpeg's own output


@pytest.mark.django_db(transaction=True)
def test_it_publishes_frames_to_live_viewers_and_reports_online(world, camera_server, caplog):
    caplog.set_level(logging.INFO, logger="nvr.ingest")
    url = camera_server.url(user="user", password=SECRET)
    camera = add_pull_camera(world.a, "Garage", url)
    with account_scope(camera.account_id):
        # Someone watches (their live view's row): the reader decodes only then.
        LiveSession.objects.create(account_id=camera.account_id, camera=camera, user=world.a.viewer)
    received: list[bytes] = []

    async def viewer(frame: bytes) -> None:
        received.append(frame)

    async def scenario() -> tuple[Camera, int]:
        hub = get_hub()
        slot = ViewerSlot(camera_id=camera.pk, account_id=camera.account_id, send=viewer, credits=1000)
        await hub.attach(slot)
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_camera(camera.pk, camera.account_id, url, config=IngestConfig(max_fps=10), stop=stop)
        )
        await asyncio.sleep(2.2)
        await until(status_is(camera, CameraStatus.ONLINE), 5, "the ONLINE status")
        online = await database_sync_to_async(fresh)(camera)
        seen = len(received)
        stop.set()
        await asyncio.wait_for(task, 5)
        await hub.detach(slot)
        return online, seen

    online, seen = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert seen >= 10, f"only {seen} frames in 2 s"
    assert all(is_jpeg(frame) for frame in received)
    assert {shape_of(frame) for frame in received} == {(240, 320, 3)}
    assert online.status == CameraStatus.ONLINE
    assert 20 <= online.live_fps <= 25 * 1.1  # the camera's own rate (25), give or take the network's jitter
    assert online.last_seen_at is not None
    assert any(hit.authorized for hit in camera_server.hits), "the decrypted credentials reached the camera"
    assert fresh(camera).status == CameraStatus.OFFLINE, "a stopped camera is not shown online"
    assert SECRET not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_retries_with_exponential_backoff_up_to_the_cap(world):
    with MjpegServer() as server:
        url = server.url("/missing.mjpg")
        camera = add_pull_camera(world.a, "Garage", url)
        config = IngestConfig(backoff_base=0.1, backoff_max=0.8)

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(run_camera(camera.pk, camera.account_id, url, config=config, stop=stop))

            async def tries() -> bool:
                return len(server.hits) >= 7

            await until(tries, 15, "seven attempts")
            stop.set()
            await asyncio.wait_for(task, 5)

        asyncio.run(asyncio.wait_for(scenario(), 30))
        starts = [hit.started for hit in server.hits_on("/missing.mjpg")]

    gaps = [later - earlier for earlier, later in pairwise(starts)][:6]
    expected = [0.1, 0.2, 0.4, 0.8, 0.8, 0.8]
    for gap, delay in zip(gaps, expected, strict=True):
        assert delay * 0.9 <= gap < delay + 0.4, f"attempts {gaps} should be {expected} apart"
    row = fresh(camera)
    assert row.status == CameraStatus.ERROR
    assert row.status_message == f"{STATUS[Outcome.UNSUPPORTED]}; retrying in 0.8 s."


@pytest.mark.django_db(transaction=True)
def test_it_resets_the_backoff_after_a_successful_read(world):
    with MjpegServer(frames=4, fps=20) as server:  # every connection ends after 0.2 s
        url = server.url()
        camera = add_pull_camera(world.a, "Garage", url)
        config = IngestConfig(backoff_base=0.3, backoff_max=10)

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(run_camera(camera.pk, camera.account_id, url, config=config, stop=stop))

            async def reconnected() -> bool:
                return len(server.hits) >= 5

            await until(reconnected, 15, "five connections")
            stop.set()
            await asyncio.wait_for(task, 5)

        asyncio.run(asyncio.wait_for(scenario(), 30))
        hits = server.hits_on("/stream.mjpg")[:5]

    pauses = [later.started - (earlier.ended or 0) for earlier, later in pairwise(hits)]
    # Each pause is the backoff plus a reader child's start (slower on a loaded machine).
    # Without the reset the backoffs would be 0.3, 0.6, 1.2, 2.4 s: the last 2.1 s longer.
    assert all(pause >= 0.25 for pause in pauses), pauses
    assert pauses[-1] - pauses[0] < 1.0, pauses
    row = fresh(camera)
    assert row.status == CameraStatus.ERROR
    assert row.status_message == "The stream ended; retrying in 0.3 s."


# --- run_all and the command ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_reads_every_households_pull_cameras_and_follows_changes(world, camera_server, caplog):
    caplog.set_level(logging.INFO, logger="nvr.ingest")
    url = camera_server.url
    garage_a = add_pull_camera(world.a, "Garage", url("/a.mjpg", user="user", password=SECRET))
    garage_b = add_pull_camera(world.b, "Garage", url("/b.mjpg", user="user", password=SECRET))
    add_pull_camera(world.a, "Shed", url("/disabled.mjpg", user="user", password=SECRET), enabled=False)

    async def streaming(path: str, connections: int) -> None:
        async def check() -> bool:
            return camera_server.streaming(path) == connections

        await until(check, 10, f"{connections} connection(s) on {path}")

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_all(IngestConfig(max_fps=5), reload_seconds=0.3, stop=stop))
        await until(status_is(garage_a, CameraStatus.ONLINE), 10, "A's camera online")
        await until(status_is(garage_b, CameraStatus.ONLINE), 10, "B's camera online")
        await streaming("/a.mjpg", 1)
        await streaming("/b.mjpg", 1)

        await database_sync_to_async(change_camera)(world.a, garage_a, enabled=False)
        await streaming("/a.mjpg", 0)
        await until(status_is(garage_a, CameraStatus.OFFLINE), 10, "A's disabled camera offline")

        await database_sync_to_async(change_camera)(
            world.b, garage_b, source_url=url("/b2.mjpg", user="user", password=SECRET)
        )
        await streaming("/b2.mjpg", 1)
        await streaming("/b.mjpg", 0)

        stop.set()
        await asyncio.wait_for(task, 15)

    asyncio.run(asyncio.wait_for(scenario(), 60))
    assert camera_server.hits_on("/disabled.mjpg") == []
    assert fresh(garage_a).status == CameraStatus.OFFLINE
    assert fresh(garage_b).status == CameraStatus.OFFLINE
    assert "unscoped access: ingest worker: list pull cameras" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_runs_as_a_management_command_until_sigterm(world, camera_server):
    camera = add_pull_camera(world.a, "Garage", camera_server.url(user="user", password=SECRET))
    log_path = Path(os.environ["NVR_DATA_DIR"]) / f"ingest-{camera.pk}.log"
    env = {**os.environ, "DATABASE_URL": testing.test_database_url(), "DATABASE_OWNER_URL": "", "LOG_LEVEL": "INFO"}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "ingest_pull_cameras", "--max-fps", "5", "--reload", "1"],
            cwd=testing.ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while fresh(camera).status != CameraStatus.ONLINE:
                assert process.poll() is None, log_path.read_text()[-2000:]
                assert time.monotonic() < deadline, "the worker never showed the camera online"
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log_path.read_text()
    assert fresh(camera).status == CameraStatus.OFFLINE
    assert f"reading http://127.0.0.1:{camera_server.port}/stream.mjpg" in output
    assert "ingest worker: stopped" in output
    assert SECRET not in output
