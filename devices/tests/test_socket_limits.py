"""Hostile websocket input: oversized, binary or flooding messages close that socket (a close
code saying why) and the server's memory stays bounded. Both sockets: a person's live view
and a camera's device socket. daphne itself refuses a message over 1 MiB (close 1009)."""

import asyncio
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs installed
import pytest

from conftest import World
from devices.consumers import CLOSE_NOT_JPEG, CLOSE_TOO_FAST, CLOSE_TOO_LARGE
from devices.tests.conftest import client_for, jpeg, open_device, open_viewer, session_cookie, wait_closed

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024
# daphne's own limit, before the consumer sees it: autobahn fails the connection (the client
# sees 1006, no close frame) or closes it with 1009, "message too big".
DAPHNE_REFUSED = {1006, 1009}


async def send_until_closed(socket: Any, messages: Any) -> None:
    """Send as fast as possible; the server may close mid-burst."""
    try:
        for message in messages:
            await socket.send(message)
    except Exception:  # noqa: S110  (a closed socket ends the burst: that is the point)
        pass


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("ack " + "9" * 5000, {CLOSE_TOO_LARGE}),
        (b"\x00" * 100, {CLOSE_NOT_JPEG}),
        ("x" * (2 * MIB), DAPHNE_REFUSED),
    ],
    ids=["long text", "binary", "over daphne's limit"],
)
def test_a_viewer_sending_what_browsers_never_send_is_closed(asgi_server, world: World, payload, code: set[int]):
    cookie = session_cookie(client_for(world.a.viewer))

    async def scenario() -> int | None:
        viewer = await open_viewer(asgi_server, world.a.cameras[0].pk, cookie)
        await send_until_closed(viewer.socket, [payload])
        return await wait_closed(viewer.socket, 5)

    assert asyncio.run(scenario()) in code


def test_a_viewer_flooding_acks_is_closed_and_others_keep_watching(asgi_server, world: World):
    flooder_cookie = session_cookie(client_for(world.a.viewer))
    other_cookie = session_cookie(client_for(world.a.owner))

    async def scenario() -> tuple[int | None, bytes]:
        flooder = await open_viewer(asgi_server, world.a.cameras[0].pk, flooder_cookie)
        other = await open_viewer(asgi_server, world.a.cameras[0].pk, other_cookie)
        await send_until_closed(flooder.socket, ["ack"] * 2000)
        closed = await wait_closed(flooder.socket, 5)
        camera = await open_device(asgi_server, world.a.tokens[0])
        await camera.send(jpeg(3))
        frame = await asyncio.wait_for(other.recv(), 5)
        await camera.close()
        await other.close()
        return closed, frame

    closed, frame = asyncio.run(scenario())
    assert closed == CLOSE_TOO_FAST
    assert frame == jpeg(3)


def test_many_large_messages_fast_close_the_sockets_and_memory_stays_bounded(asgi_server, world: World):
    """20 sockets (10 viewers, 10 camera connections), each sending 1 MB messages as fast as it
    can: every socket is closed with a code, and daphne's memory grows by far less than what
    was offered (20 x 20 MB)."""
    server = psutil.Process(asgi_server.pid)
    cookie = session_cookie(client_for(world.a.viewer))
    big = b"\xff\xd8\xff" + b"\0" * (MIB - 10) + b"\xff\xd9"  # under daphne's limit, over the frame limit
    offered = 20 * 20 * len(big)

    async def one(kind: str) -> int | None:
        if kind == "viewer":
            socket = (await open_viewer(asgi_server, world.a.cameras[0].pk, cookie)).socket
        else:
            socket = await open_device(asgi_server, world.a.tokens[0])
        await send_until_closed(socket, [big] * 20)
        return await wait_closed(socket, 10)

    async def scenario() -> list[int | None]:
        results = []
        # Camera sockets one after another (a newer one with the same token replaces the last).
        for _ in range(10):
            results.append(await one("device"))
        results += await asyncio.gather(*(one("viewer") for _ in range(10)))
        return results

    before = server.memory_info().rss
    codes = asyncio.run(scenario())
    grown = server.memory_info().rss - before
    assert codes == [CLOSE_TOO_LARGE] * 10 + [CLOSE_NOT_JPEG] * 10
    assert grown < 100 * MIB, f"daphne grew by {grown // MIB} MiB for {offered // MIB} MiB offered"
