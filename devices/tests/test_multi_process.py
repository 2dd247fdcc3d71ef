"""Live view across daphne processes on the Redis channel layer (CI runs it; it needs REDIS_URL)."""

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import World
from devices.tests.conftest import client_for, jpeg, open_device, open_viewer, session_cookie
from devices.tests.h264_streams import encode
from devices.tests.test_live_h264 import decoded as decoded_pictures
from nvr.testing import LiveServer, daphne_server

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_servers() -> Iterator[tuple[LiveServer, LiveServer]]:
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs the Redis channel layer (REDIS_URL); CI sets it")
    with daphne_server() as one, daphne_server() as two:
        yield one, two


def test_a_camera_on_one_process_reaches_its_household_on_another_and_nobody_else(two_servers, world: World):
    one, two = two_servers
    a_viewer = session_cookie(client_for(world.a.viewer))
    b_viewer = session_cookie(client_for(world.b.viewer))

    async def scenario() -> tuple[list[bytes], list[bytes], list[bytes]]:
        mine = await open_viewer(two, world.a.cameras[0].pk, a_viewer)
        theirs_here = await open_viewer(one, world.b.cameras[0].pk, b_viewer)
        theirs_there = await open_viewer(two, world.b.cameras[0].pk, b_viewer)
        camera = await open_device(one, world.a.tokens[0])
        received: list[bytes] = []
        for n in range(5):
            await camera.send(jpeg(n))
            received.append(await asyncio.wait_for(mine.recv(), 5))
            await mine.send("ack")

        async def leaked(socket: Any) -> list[bytes]:
            frames = []
            try:
                while True:
                    frames.append(await asyncio.wait_for(socket.recv(), 1))
            except TimeoutError:
                return frames

        stray_here, stray_there = await asyncio.gather(leaked(theirs_here), leaked(theirs_there))
        for socket in (camera, mine, theirs_here, theirs_there):
            await socket.close()
        return received, stray_here, stray_there

    received, stray_here, stray_there = asyncio.run(scenario())
    assert received == [jpeg(n) for n in range(5)]
    assert stray_here == stray_there == []


def test_a_viewer_on_another_process_starts_at_once_from_the_cameras_last_keyframe(two_servers, world: World):
    """The process that subscribes asks the camera's socket, on the other process, for the
    pictures since its last keyframe (a replay over Redis); each household gets its own."""
    one, two = two_servers
    red, _ = encode(count=8, keyint=5, colour=(0, 0, 220))  # keyframes at 0 and 5: 5, 6, 7 are kept
    green, _ = encode(count=8, keyint=5, colour=(0, 200, 0))
    a_viewer = session_cookie(client_for(world.a.viewer))
    b_viewer = session_cookie(client_for(world.b.viewer))

    async def scenario() -> tuple[bytes, bytes]:
        cameras = [await open_device(one, world.a.tokens[0]), await open_device(one, world.b.tokens[0])]
        for a_unit, b_unit in zip(red, green, strict=True):
            await cameras[0].send(a_unit[0])
            await cameras[1].send(b_unit[0])
        await asyncio.sleep(0.5)
        mine = await open_viewer(two, world.a.cameras[0].pk, a_viewer, mp4=True)
        theirs = await open_viewer(two, world.b.cameras[0].pk, b_viewer, mp4=True)
        # The cameras send nothing more meanwhile: only the kept pictures can answer.
        first_mine = await asyncio.wait_for(mine.recv(), 5)
        first_theirs = await asyncio.wait_for(theirs.recv(), 5)
        for socket in (*cameras, mine, theirs):
            await socket.close()
        return first_mine, first_theirs

    first_mine, first_theirs = asyncio.run(scenario())
    for message, (blue, green_level, red_level) in ((first_mine, (0, 0, 220)), (first_theirs, (0, 200, 0))):
        assert message[4:8] == b"ftyp"
        assert message.count(b"moof") == 3
        pictures = decoded_pictures([message])
        assert len(pictures) == 3
        shown = pictures[-1][48, 100]  # away from the moving bar
        assert all(abs(int(got) - want) < 40 for got, want in zip(shown, (blue, green_level, red_level), strict=True))
