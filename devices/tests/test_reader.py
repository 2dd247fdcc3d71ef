"""The stream reader child against GStreamer's RTSP server on 127.0.0.1 (tools/rtsp_server.py).

What arrives (packets keyframe first, JPEG only while decoding is on), how failures
end (a few outcomes, never text), what the child holds (no secret in its environment
or arguments, its limits), and the worker's reconnect when the server goes away.
"""

import asyncio
import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import av
import pytest
from channels.db import database_sync_to_async

from conftest import RTSP_PASSWORD, RTSP_USER
from devices.addresses import check_address
from devices.consumers import is_jpeg
from devices.fanout import ViewerSlot, get_hub
from devices.ingest.config import IngestConfig
from devices.ingest.reader import (
    CHILD_ENV,
    JpegFrame,
    Message,
    Outcome,
    Packet,
    PacketCount,
    ReaderLimits,
    StreamInfo,
    StreamReader,
)
from devices.ingest.worker import STATUS, run_camera
from devices.models import CameraStatus
from devices.selectors import Watching
from devices.tests.test_ingest import add_pull_camera, fresh, status_is, until
from tools.rtsp_testing import RtspServer
from tools.synth import make_clip

T = TypeVar("T")
MASTER_KEY = "master-key-that-must-stay-in-the-worker-0123456789"
CONFIG = IngestConfig(max_fps=5, open_timeout=5, read_timeout=5)


def reader_for(
    url: str, *, limits: ReaderLimits | None = None, decode: bool = False, packets: bool = False
) -> StreamReader:
    return StreamReader(check_address(url), CONFIG, limits or ReaderLimits(), decode=decode, packets=packets)


async def collect(
    reader: StreamReader, seconds: float, during: Callable[[StreamReader, float], Awaitable[None]] | None = None
) -> list[tuple[float, Message]]:
    """What the reader yields for ``seconds`` (or until it ends), with arrival times."""
    received: list[tuple[float, Message]] = []
    started = time.monotonic()

    async def consume() -> None:
        async for message in reader.messages():
            elapsed = time.monotonic() - started
            received.append((elapsed, message))
            if during is not None:
                await during(reader, elapsed)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(consume(), seconds)
    return received


def run(coroutine: Coroutine[Any, Any, T], within: float = 60) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, within)

    return asyncio.run(bounded())


# --- What arrives ---------------------------------------------------------------------------


def test_it_reads_packets_keyframe_first_with_timestamps_that_advance(rtsp_server):
    async def scenario() -> list[tuple[float, Message]]:
        url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)
        async with reader_for(url, packets=True) as reader:
            return await collect(reader, 5)

    received = [message for _at, message in run(scenario())]
    info = received[0]
    assert isinstance(info, StreamInfo)
    assert (info.codec, info.width, info.height) == ("h264", 640, 360)
    assert info.extradata, "the SPS/PPS a remuxer needs"
    assert info.rate == 15
    packets = [m for m in received if isinstance(m, Packet)]
    assert len(packets) >= 15, "a second of video at least"
    assert not any(isinstance(m, JpegFrame) for m in received), "nobody asked for pictures"
    assert packets[0].keyframe
    assert packets[0].pts is not None
    assert all(p.data for p in packets)
    dts = [p.dts for p in packets if p.dts is not None]
    assert len(dts) == len(packets)
    steps = [later - earlier for earlier, later in pairwise(dts)]
    frame = info.time_base**-1 / 15  # one frame interval in the stream's time base
    assert all(0 < step <= 2 * frame for step in steps), steps
    keyframes = [p for p in packets if p.keyframe]
    assert len(keyframes) >= 2 or len(packets) < 30


def test_packets_cross_the_pipe_only_when_asked_and_then_from_the_last_keyframe(rtsp_server):
    """The worker only counts packets (the child records): their bytes stay in the child,
    until a live view asks for them; then they start at once, from the last keyframe (kept)."""
    asked_at: list[float] = []

    async def ask_midway(reader: StreamReader, elapsed: float) -> None:
        if elapsed >= 3 and not asked_at:  # 1 s into a 2 s group of pictures
            asked_at.append(elapsed)
            await reader.set_packets(True)

    async def scenario() -> list[tuple[float, Message]]:
        async with reader_for(rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)) as reader:
            return await collect(reader, 6, ask_midway)

    received = run(scenario())
    before = [m for at, m in received if at <= asked_at[0]]
    packets = [m for m in before if isinstance(m, Packet)]
    assert len(packets) == 1  # the first one says the stream flows; counts follow
    assert packets[0].keyframe
    assert packets[0].data == b""
    counts = [m.packets for m in before if isinstance(m, PacketCount)]
    assert len(counts) >= 3, counts  # twice a second while packets arrive
    assert 15 <= sum(counts) <= 4 * 15, counts  # seconds of video at 15 a second

    after = [(at, m) for at, m in received if at > asked_at[0] and isinstance(m, Packet)]
    first_at, first = after[0]
    assert first.keyframe
    assert first.data
    assert first_at - asked_at[0] < 0.5  # not at the next keyframe, up to 2 s away
    burst = [m for at, m in after if at - first_at < 0.05]
    assert len(burst) >= 5  # the kept pictures since that keyframe, at once
    dts = [m.dts for _at, m in after if m.dts is not None]
    assert all(later > earlier for earlier, later in pairwise(dts))  # nothing missing, nothing twice


def test_it_sends_jpeg_frames_only_while_decoding_is_on(rtsp_server):
    async def toggle(reader: StreamReader, elapsed: float) -> None:
        # Off, on from 2.5 s to 5 s, then off again.
        await reader.set_decoding(2.5 <= elapsed < 5)

    async def scenario() -> list[tuple[float, Message]]:
        async with reader_for(rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD), packets=True) as reader:
            return await collect(reader, 7.5, toggle)

    received = run(scenario())
    jpegs = [(at, m) for at, m in received if isinstance(m, JpegFrame)]
    assert jpegs, "pictures while decoding is on"
    assert all(2.5 <= at < 5.3 for at, _m in jpegs), [at for at, _m in jpegs]
    assert all(is_jpeg(m.data) and (m.width, m.height) == (640, 360) for _at, m in jpegs)
    rate = len(jpegs) / (jpegs[-1][0] - jpegs[0][0]) if len(jpegs) > 1 else 0
    assert rate <= CONFIG.max_fps * 1.3
    assert any(isinstance(m, Packet) and at > 5.5 for at, m in received), "packets go on without pictures"


# --- How it fails --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "path", "outcome"),
    [
        ((RTSP_USER, "wrong"), "/cam", Outcome.CREDENTIALS),
        ((None, None), "/cam", Outcome.CREDENTIALS),
        ((RTSP_USER, RTSP_PASSWORD), "/no-such-stream", Outcome.UNSUPPORTED),
    ],
)
def test_a_refused_or_missing_stream_ends_with_its_outcome(rtsp_server, credentials, path, outcome):
    user, password = credentials

    async def scenario() -> StreamReader:
        async with reader_for(rtsp_server.url(path, user=user, password=password)) as reader:
            assert await collect(reader, 10) == []
        return reader

    reader = run(scenario())
    assert reader.outcome == outcome
    assert RTSP_PASSWORD not in reader.detail


def test_an_address_nobody_listens_on_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: refused

        async def scenario() -> StreamReader:
            async with reader_for(f"rtsp://user:pw@127.0.0.1:{port}/cam") as reader:
                assert await collect(reader, 10) == []
            return reader

        assert run(scenario()).outcome == Outcome.UNREACHABLE


class RedirectingRtsp:
    """An RTSP "camera" that answers every request with a redirect to another loopback address
    (127.0.0.2, not allowed), where a listener notes whether anyone came."""

    def __init__(self, scheme: str = "rtsp") -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.target = socket.create_server(("127.0.0.2", 0))
        self.port, self.target_port = self.server.getsockname()[1], self.target.getsockname()[1]
        self.scheme = scheme
        self.visited = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.answer, self.watch)]
        for thread in self.threads:
            thread.start()

    def answer(self) -> None:
        with self.server:
            self.server.settimeout(15)
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                request = connection.recv(65536).decode(errors="replace")
                cseq = next((line.split(":", 1)[1].strip() for line in request.splitlines() if "CSeq" in line), "1")
                location = f"rtsp://127.0.0.2:{self.target_port}/cam"
                if self.scheme == "http":
                    connection.sendall(f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{self.target_port}/\r\n"
                                       "Content-Length: 0\r\n\r\n".encode())  # fmt: skip
                else:
                    connection.sendall(f"RTSP/1.0 302 Moved\r\nCSeq: {cseq}\r\nLocation: {location}\r\n\r\n".encode())
                time.sleep(1)

    def watch(self) -> None:
        with self.target:
            self.target.settimeout(15)
            try:
                self.target.accept()[0].close()
                self.visited.set()
            except OSError:
                pass


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_a_redirect_to_an_unchecked_address_is_not_followed(scheme):
    camera = RedirectingRtsp(scheme)

    async def scenario() -> StreamReader:
        async with reader_for(f"{scheme}://user:pw@127.0.0.1:{camera.port}/cam") as reader:
            assert await collect(reader, 10) == []
        return reader

    reader = run(scenario())
    assert reader.outcome == Outcome.NOT_ALLOWED
    assert not camera.visited.wait(1), "the reader connected to the redirect's target"


# --- What the child holds ---------------------------------------------------------------------


def test_the_child_holds_no_secret_in_its_environment_or_arguments(rtsp_server, monkeypatch):
    monkeypatch.setenv("NVR_MASTER_KEY", MASTER_KEY)
    monkeypatch.setenv("DATABASE_URL", "postgres://nvr_app:db-password-77@127.0.0.1/nvr")
    monkeypatch.setenv("SECRET_KEY", "django-secret-key-value-55")
    url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)

    async def scenario() -> tuple[bytes, bytes, list[tuple[float, Message]]]:
        async with reader_for(url) as reader:
            received = await collect(reader, 3)  # connected with the password: it did get it
            pid = reader.pid
            return Path(f"/proc/{pid}/environ").read_bytes(), Path(f"/proc/{pid}/cmdline").read_bytes(), received

    environ, cmdline, received = run(scenario())
    assert any(isinstance(m, Packet) for _at, m in received)
    variables = dict(item.split(b"=", 1) for item in environ.split(b"\0") if item)
    assert variables == {key.encode(): value.encode() for key, value in CHILD_ENV.items()}
    for secret in (RTSP_PASSWORD, MASTER_KEY, "db-password-77", "django-secret-key-value-55", RTSP_USER):
        assert secret.encode() not in environ
        assert secret.encode() not in cmdline
    assert b"-I" in cmdline.split(b"\0"), "isolated mode: no PYTHON* variables, no user site"


def test_the_child_runs_under_its_memory_limit_without_core_dumps(rtsp_server):
    async def scenario() -> str:
        limits = ReaderLimits(memory_mb=768)
        async with reader_for(rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD), limits=limits) as reader:
            await collect(reader, 2)
            return Path(f"/proc/{reader.pid}/limits").read_text()

    table = {line[:26].strip(): line[26:].split()[:2] for line in run(scenario()).splitlines()[1:]}
    assert table["Max address space"] == [str(768 * 1024 * 1024)] * 2
    assert table["Max core file size"] == ["0", "0"]


def test_a_child_out_of_memory_ends_as_failed_and_the_parent_carries_on(rtsp_server):
    async def scenario() -> StreamReader:
        limits = ReaderLimits(memory_mb=48)  # less than PyAV and its libraries need
        async with reader_for(rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD), limits=limits) as reader:
            assert await collect(reader, 10) == []
        return reader

    reader = run(scenario())
    assert reader.outcome == Outcome.FAILED
    assert RTSP_PASSWORD not in " ".join(reader.stderr)


def test_a_child_using_more_cpu_than_allowed_is_stopped(rtsp_server):
    async def scenario() -> tuple[StreamReader, int | None]:
        limits = ReaderLimits(max_cpu=0.001, cpu_window=1.0)
        url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)
        async with reader_for(url, limits=limits, decode=True) as reader:
            pid = reader.pid
            await collect(reader, 15)
        return reader, pid

    reader, pid = run(scenario())
    assert reader.outcome == Outcome.FAILED
    assert "CPU" in reader.detail
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


# --- The worker: live view, reconnects ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_live_view_decodes_only_while_watched_and_the_worker_reconnects_after_the_server_went_away(world, rtsp_server):
    url = rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)
    camera = add_pull_camera(world.a, "Drive", url)
    watching = Watching()
    frames: list[float] = []
    fragments: list[bytes] = []
    statuses: list[str] = []

    async def watched(camera_id, account_id) -> Watching:
        return watching

    async def viewer(frame: bytes) -> None:
        assert is_jpeg(frame)
        frames.append(time.monotonic())

    async def mp4_viewer(fragment: bytes) -> None:
        fragments.append(fragment)

    async def status(text: str) -> None:
        statuses.append(json.loads(text)["state"])

    async def scenario() -> None:
        nonlocal watching
        hub = get_hub()
        slot = ViewerSlot(camera_id=camera.pk, account_id=camera.account_id, send=viewer, credits=1000)
        plays_mp4 = ViewerSlot(
            camera_id=camera.pk,
            account_id=camera.account_id,
            send=mp4_viewer,
            send_text=status,
            credits=1000,
            mp4=True,
        )
        await hub.attach(slot)
        await hub.attach(plays_mp4)
        stop = asyncio.Event()
        config = IngestConfig(max_fps=5, backoff_base=0.2, backoff_max=0.5, report_every=0.5)
        task = asyncio.create_task(
            run_camera(camera.pk, camera.account_id, url, config=config, stop=stop, watched=watched)
        )
        await until(status_is(camera, CameraStatus.ONLINE), 15, "online")
        await asyncio.sleep(1.5)
        assert frames == [], "no picture while nobody watches"
        assert fragments == []
        watching = Watching(jpeg=True)  # a browser without Media Source Extensions
        await until(_count(frames, 3), 10, "pictures for the viewer")
        assert fragments == [], "JPEG made for others is not sent to who plays MP4"
        watching = Watching(h264=True)
        await until(lambda: _true(sum(f.count(b"moof") for f in fragments) >= 20), 10, "MP4 for the viewer")
        watching = Watching()
        await asyncio.sleep(1.5)  # the next check turns decoding off
        quiet_from, relayed = time.monotonic(), len(fragments)
        await asyncio.sleep(1.5)
        assert [t for t in frames if t > quiet_from] == [], "pictures after the viewer left"
        assert len(fragments) == relayed
        container = av.open(io.BytesIO(b"".join(fragments)), "r")
        pictures = list(container.decode(video=0))  # whole, no transcoding: the camera's own stream
        container.close()
        assert len(pictures) >= 20
        assert (pictures[0].width, pictures[0].height) == (640, 360)  # rtsp_clip's

        await asyncio.to_thread(rtsp_server.stop)  # the camera goes away mid-stream
        await until(status_is(camera, CameraStatus.ERROR), 15, "the error status")
        assert statuses[-1] == "offline"  # told to viewers, not only written down
        row = await database_sync_to_async(fresh)(camera)
        assert row.status_message.split(";")[0] in {STATUS[Outcome.ENDED], STATUS[Outcome.UNREACHABLE]}
        await asyncio.to_thread(rtsp_server.start)  # and comes back on the same port
        await until(status_is(camera, CameraStatus.ONLINE), 20, "online again")
        stop.set()
        await asyncio.wait_for(task, 10)
        await hub.detach(slot)
        await hub.detach(plays_mp4)

    run(scenario(), 90)
    row = fresh(camera)
    assert row.status == CameraStatus.OFFLINE
    assert RTSP_PASSWORD not in row.status_message


async def _true(value: bool) -> bool:
    return value


def _count(items: list[float], n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(items) >= n

    return check


@pytest.mark.django_db(transaction=True)
def test_the_worker_refuses_an_address_no_longer_allowed_at_connect(world, settings):
    camera = add_pull_camera(world.a, "Drive", "rtsp://user:pw@127.0.0.1:9/cam")
    settings.NVR_CAMERA_ALLOWED_NETWORKS = []  # the operator narrowed the list since it was saved

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_camera(camera.pk, camera.account_id, "rtsp://user:pw@127.0.0.1:9/cam", config=CONFIG, stop=stop)
        )
        await until(status_is(camera, CameraStatus.ERROR), 10, "the error status")
        stop.set()
        await asyncio.wait_for(task, 10)

    run(scenario())
    assert fresh(camera).status_message.startswith(STATUS[Outcome.NOT_ALLOWED])


def test_status_messages_are_fixed_sentences_without_detail():
    assert set(STATUS) == set(Outcome)
    for message in STATUS.values():
        assert "error" not in message.lower()
        assert ":" not in message


@pytest.mark.django_db(transaction=True)
@pytest.mark.rtsp
@pytest.mark.usefixtures("_rtsp_available")
def test_an_h265_camera_plays_as_mp4_where_the_browser_can_and_as_jpeg_elsewhere(world, tmp_path):
    """The worker relays H.265 packets to viewers who play H.265 and decodes to JPEG only for
    one who plays H.264 alone; each gets what it can play, and nothing else."""
    clip = tmp_path / "hevc.mp4"
    make_clip(clip, seconds=20, fps=15, width=320, height=180, codec="libx265")
    h265: list[bytes] = []
    jpegs: list[bytes] = []

    async def plays_h265(fragment: bytes) -> None:
        h265.append(fragment)

    async def plays_h264_only(frame: bytes) -> None:
        jpegs.append(frame)

    async def watched(camera_id, account_id) -> Watching:
        return Watching(h264=True, hevc=True, h264_only=True)

    with RtspServer(clip, codec="h265") as server:
        camera = add_pull_camera(world.a, "Attic", server.url())

        async def scenario() -> None:
            hub = get_hub()
            slots = [
                ViewerSlot(
                    camera_id=camera.pk, account_id=camera.account_id, send=send, credits=1000, mp4=True, hevc=hevc
                )
                for send, hevc in ((plays_h265, True), (plays_h264_only, False))
            ]
            for slot in slots:
                await hub.attach(slot)
            stop = asyncio.Event()
            task = asyncio.create_task(
                run_camera(camera.pk, camera.account_id, server.url(), config=CONFIG, stop=stop, watched=watched)
            )
            await until(lambda: _true(sum(f.count(b"moof") for f in h265) >= 15 and len(jpegs) >= 3), 20, "both")
            stop.set()
            await asyncio.wait_for(task, 10)
            for slot in slots:
                await hub.detach(slot)

        run(scenario(), 60)
    assert b"hvcC" in h265[0]
    container = av.open(io.BytesIO(b"".join(h265)), "r")
    codec = container.streams.video[0].codec_context.name
    pictures = list(container.decode(video=0))
    container.close()
    assert codec == "hevc"
    assert (pictures[0].width, pictures[0].height) == (320, 180)
    assert all(is_jpeg(frame) for frame in jpegs)
