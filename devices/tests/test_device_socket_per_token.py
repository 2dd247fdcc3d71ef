"""One device socket per token: a newer connection closes the older one with 4409."""

import asyncio
import time

import pytest

from accounts.tenancy import account_scope
from conftest import World
from devices.consumers import CLOSE_SUPERSEDED
from devices.models import Camera, CameraStatus
from devices.tests.conftest import client_for, jpeg, open_device, open_viewer, session_cookie, wait_closed

pytestmark = pytest.mark.django_db(transaction=True)


def status_of(world: World) -> str:
    with account_scope(world.a.account.pk):
        return Camera.objects.get(pk=world.a.cameras[0].pk).status


def test_a_newer_socket_with_the_same_token_closes_the_older_one(asgi_server, world: World):
    """The older gets 4409; the newer keeps streaming to viewers, and the camera stays online."""
    cookie = session_cookie(client_for(world.a.owner))

    async def scenario() -> tuple[int | None, int | None, bytes, str]:
        viewer = await open_viewer(asgi_server, world.a.cameras[0].pk, cookie)
        older = await open_device(asgi_server, world.a.tokens[0])
        other_household = await open_device(asgi_server, world.b.tokens[0])
        newer = await open_device(asgi_server, world.a.tokens[0])
        closed = await wait_closed(older, 3)
        await newer.send(jpeg(7))
        frame = await asyncio.wait_for(viewer.recv(), 5)
        # The older socket's end must not mark the camera offline while the newer one is up.
        await asyncio.sleep(0.5)
        status = await asyncio.to_thread(status_of, world)
        untouched = await wait_closed(other_household, 0.2)
        for socket in (newer, other_household, viewer):
            await socket.close()
        return closed, untouched, frame, status

    closed, untouched, frame, status = asyncio.run(scenario())
    assert closed == CLOSE_SUPERSEDED
    assert untouched is None  # another token's socket is not disturbed
    assert frame == jpeg(7)
    assert status == CameraStatus.ONLINE


def test_of_sockets_opened_at_the_same_instant_exactly_one_stays(asgi_server, world: World):
    async def scenario() -> list[int | None]:
        sockets = await asyncio.gather(*(open_device(asgi_server, world.a.tokens[0]) for _ in range(5)))
        deadline = time.monotonic() + 3
        codes: list[int | None] = [None] * len(sockets)
        while time.monotonic() < deadline and codes.count(None) > 1:
            codes = [await wait_closed(socket, 0.05) for socket in sockets]
        await asyncio.sleep(0.3)  # and the survivor is not closed a moment later
        codes = [await wait_closed(socket, 0.05) for socket in sockets]
        for socket in sockets:
            await socket.close()
        return codes

    codes = asyncio.run(scenario())
    assert sorted(codes, key=lambda code: code or 0) == [None] + [CLOSE_SUPERSEDED] * 4
