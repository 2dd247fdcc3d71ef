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


def test_only_the_sites_exact_origin_opens_a_live_socket(asgi_server, world, cams):
    """The origin is compared in full: another port, scheme or host on the same machine
    (a page on http://127.0.0.1:6666 used to get frames) and no Origin are refused at the
    handshake, with a valid session; the site's own origin opens and gets frames."""
    import websockets
    from websockets.typing import Origin

    cookie = session_cookie(client_for(world.a.viewer))
    port = asgi_server.origin.rsplit(":", 1)[1]
    other_port = "6666" if port != "6666" else "6667"
    path = f"{asgi_server.ws}/ws/live/{cams['a'].camera.pk}/"

    async def status(origin: str | None) -> int:
        try:
            socket = await websockets.connect(
                path, additional_headers=[("Cookie", cookie)], origin=Origin(origin) if origin else None, open_timeout=5
            )
        except InvalidStatus as refused:
            return refused.response.status_code
        await socket.close()
        return 101

    refused = {
        "another port": f"http://127.0.0.1:{other_port}",
        "another scheme": f"https://127.0.0.1:{port}",
        "another host": f"http://localhost:{port}",
        "no port": "http://127.0.0.1",
        "a path after it": f"http://127.0.0.1:{port}/x",
        "null": "null",
        "no Origin": None,
    }

    async def scenario() -> tuple[dict[str, int], bytes]:
        answers = {label: await status(origin) for label, origin in refused.items()}
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie)  # the exact origin
        device = await open_device(asgi_server, cams["a"].token)
        await device.send(jpeg(7))
        frame = await asyncio.wait_for(viewer.recv(), 5)
        await device.close()
        await viewer.close()
        return answers, frame

    answers, frame = asyncio.run(scenario())
    assert answers == dict.fromkeys(refused, 403)
    assert frame == jpeg(7)
