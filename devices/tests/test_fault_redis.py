"""Fault: the channel layer's Redis dies while cameras push and viewers watch (issue 16).

The Redis is the test's own (``nvr.testing.redis_server``), killed and restarted on the same
port; the machine's shared Redis is never touched. The daphne process uses it for both the
channel layer and the cache, as a deployment with one Redis would.
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets

from conftest import World
from devices.tests.conftest import client_for, jpeg, open_device, open_viewer, session_cookie
from devices.unavailable import CLOSE_TRY_AGAIN
from nvr.testing import LiveServer, daphne_server, redis_server

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# Every frame says whose it is: household A's camera sends shades 0-119, B's 130-249.
SHADES = {"a": range(0, 120), "b": range(130, 250)}
# A viewer's socket may end while Redis is down, but only with a close frame: never dropped.
CLEAN_CLOSES = {1000, 1001, 1011, 1012, 1013, CLOSE_TRY_AGAIN}


@dataclass
class Watch:
    """What one household's viewer received, and when (monotonic seconds)."""

    frames: list[tuple[float, bytes]] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)


async def camera(server: LiveServer, token: str, shades: range, stop: asyncio.Event, closes: list[Any]) -> None:
    """A camera as real ones behave: push ten frames a second, reconnect a moment after a close."""
    n = 0
    while not stop.is_set():
        try:
            socket = await open_device(server, token)
        except (OSError, websockets.InvalidHandshake, TimeoutError) as error:
            closes.append(type(error).__name__)
            await asyncio.sleep(0.2)
            continue
        try:
            while not stop.is_set():
                await socket.send(jpeg(shades[n % len(shades)]))
                n += 1
                await asyncio.sleep(0.1)
        except websockets.ConnectionClosed:
            closes.append(socket.close_code)
            await asyncio.sleep(0.2)
        finally:
            await socket.close()


async def viewer(server: LiveServer, camera_id: Any, cookie: str, watch: Watch, stop: asyncio.Event) -> None:
    """A browser's live view: ack each frame; reopen the view when the server closes it."""
    while not stop.is_set():
        try:
            socket = await open_viewer(server, camera_id, cookie)
        except (OSError, websockets.InvalidHandshake, TimeoutError):
            await asyncio.sleep(0.5)
            continue
        try:
            while not stop.is_set():
                try:
                    frame = await asyncio.wait_for(socket.recv(), 0.5)
                except TimeoutError:
                    continue
                watch.frames.append((time.monotonic(), frame))
                await socket.send("ack")
        except websockets.ConnectionClosed:
            watch.closes.append(socket.close_code)
            await asyncio.sleep(0.5)
        finally:
            await socket.close()


async def first_frame_after(watch: Watch, moment: float, within: float) -> float:
    """Seconds from ``moment`` to the first frame the viewer received after it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        later = [at for at, _ in watch.frames if at > moment]
        if later:
            return later[0] - moment
        await asyncio.sleep(0.05)
    raise AssertionError(f"no frame within {within} s")


def test_redis_dies_and_returns_under_live_view(world: World):
    cookies = {"a": session_cookie(client_for(world.a.viewer)), "b": session_cookie(client_for(world.b.viewer))}
    households = {"a": world.a, "b": world.b}
    with redis_server() as redis:
        env = {"REDIS_URL": f"{redis.url}/0", "NVR_CACHE_URL": f"{redis.url}/1"}
        with daphne_server(env) as server:

            async def scenario() -> dict[str, Any]:
                stop = asyncio.Event()
                watches = {name: Watch() for name in households}
                camera_closes: dict[str, list[Any]] = {name: [] for name in households}
                tasks = [
                    asyncio.create_task(viewer(server, h.cameras[0].pk, cookies[name], watches[name], stop))
                    for name, h in households.items()
                ] + [
                    asyncio.create_task(camera(server, h.tokens[0], SHADES[name], stop, camera_closes[name]))
                    for name, h in households.items()
                ]
                try:
                    start = time.monotonic()
                    for name in households:
                        await first_frame_after(watches[name], start, 10)

                    redis.kill()
                    down = time.monotonic()
                    await asyncio.sleep(0.5)
                    # A camera that connects now is let in, then told to come back later.
                    late = await open_device(server, world.a.tokens[0])
                    try:
                        await asyncio.wait_for(late.wait_closed(), 5)
                    finally:
                        await late.close()
                    late_code = late.close_code
                    # So is a browser that opens a live view now (it reconnects with backoff).
                    browser = await open_viewer(server, world.b.cameras[0].pk, cookies["b"])
                    try:
                        await asyncio.wait_for(browser.wait_closed(), 5)
                    finally:
                        await browser.close()
                    late_viewer_code = browser.close_code
                    await asyncio.sleep(max(0.0, 3 - (time.monotonic() - down)))

                    redis.start()
                    back = time.monotonic()
                    recovery = {name: await first_frame_after(watches[name], back, 5) for name in households}
                    await asyncio.sleep(1)  # a little more traffic after recovery, to check it too
                finally:
                    stop.set()
                    await asyncio.gather(*tasks, return_exceptions=True)
                return {
                    "watches": watches,
                    "late_code": late_code,
                    "late_viewer_code": late_viewer_code,
                    "recovery": recovery,
                    "cameras": camera_closes,
                }

            outcome = asyncio.run(scenario())

    assert outcome["late_code"] == outcome["late_viewer_code"] == CLOSE_TRY_AGAIN
    for name, watch in outcome["watches"].items():
        # No frame crossed households, before, during or after the outage.
        own = {jpeg(shade) for shade in SHADES[name]}
        assert all(frame in own for _, frame in watch.frames), f"household {name} saw another's frame"
        assert set(watch.closes) <= CLEAN_CLOSES, f"viewer {name} closes: {watch.closes}"
        assert outcome["recovery"][name] < 5
        # The cameras were only ever closed with a code (never refused with an HTTP error).
        assert all(isinstance(code, int) for code in outcome["cameras"][name]), outcome["cameras"][name]
        assert CLOSE_TRY_AGAIN in outcome["cameras"][name]  # pushing while Redis was down
    print(f"frames flowed again {max(outcome['recovery'].values()):.2f} s after Redis returned")
