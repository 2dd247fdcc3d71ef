"""Live view over real sockets: a camera pushes into daphne, a viewer of its household receives."""

import asyncio
import time

import pytest
from websockets.exceptions import InvalidStatus

from accounts.models import AccessEvent, AccessKind
from accounts.tenancy import account_scope
from devices.tests.conftest import client_for, jpeg, open_device, open_viewer, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_viewer_receives_its_households_frames(asgi_server, world, cams):
    cookie = session_cookie(client_for(world.a.viewer))

    async def scenario() -> list[bytes]:
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie)
        device = await open_device(asgi_server, cams["a"].token)
        received = []
        for n in range(5):
            await device.send(jpeg(n))
            frame = await asyncio.wait_for(viewer.recv(), 5)
            received.append(frame)
            await viewer.send("ack")
        await device.close()
        await viewer.close()
        return received

    received = asyncio.run(scenario())
    assert received == [jpeg(n) for n in range(5)]

    def events() -> list[tuple[str, str]]:
        with account_scope(world.a.account.pk):
            rows = AccessEvent.objects.filter(object_id=cams["a"].camera.pk).order_by("created_at")
            return [(e.kind, e.actor_label) for e in rows]

    deadline = time.monotonic() + 5  # the end is written as the server notices the close
    while len(events()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert events() == [(AccessKind.LIVE_START, "Vera"), (AccessKind.LIVE_END, "Vera")]


def test_a_viewer_of_another_households_camera_is_refused_before_accept(asgi_server, world, cams):
    cookie = session_cookie(client_for(world.a.owner))

    async def scenario() -> int:
        with pytest.raises(InvalidStatus) as refused:
            await open_viewer(asgi_server, cams["b"].camera.pk, cookie)
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == 403
