"""The camera's websocket: token only; bad frames close that connection, and only it."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from conftest import World
from devices.consumers import CLOSE_NOT_JPEG, CLOSE_TOO_FAST, CLOSE_TOO_LARGE
from devices.models import Camera, CameraStatus
from devices.tests.conftest import client_for, jpeg, open_device, open_viewer, session_cookie, wait_closed
from nvr.testing import LiveServer, daphne_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_wrong_or_missing_token_is_refused_at_the_handshake(asgi_server, world: World):
    token = world.a.tokens[0]
    headers = [f"Bearer {token[:-3]}xyz", "Bearer nonsense", f"Basic {token}", None]

    async def attempts() -> list[int]:
        codes = []
        for authorization in headers:
            extra = [("Authorization", authorization)] if authorization else []
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(f"{asgi_server.ws}/ws/device/", additional_headers=extra, open_timeout=5)
            codes.append(refused.value.response.status_code)
        return codes

    assert asyncio.run(attempts()) == [403, 403, 403, 403]


@pytest.fixture
def three_failures(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """A daphne refusing an address after 3 failed token attempts, also listening on [::1]."""
    env = {"NVR_FAILED_ATTEMPTS_PER_ADDRESS": "3"}
    with django_db_blocker.unblock(), daphne_server(env, second_address=True) as server:
        yield server


def test_an_address_that_keeps_failing_is_refused_even_with_the_right_token(three_failures, world: World):
    server = three_failures
    other = server.http_other.replace("http://", "ws://")

    async def handshake(base: str, token: str) -> int:
        try:
            socket = await websockets.connect(
                f"{base}/ws/device/", additional_headers=[("Authorization", f"Bearer {token}")], open_timeout=5
            )
        except InvalidStatus as refused:
            return refused.response.status_code
        await socket.close()
        return 101

    async def scenario() -> list[int]:
        wrong = f"{world.a.tokens[0][:-3]}xyz"
        answers = [await handshake(server.ws, wrong) for _ in range(3)]
        answers.append(await handshake(server.ws, world.a.tokens[0]))  # blocked: not even checked
        answers.append(await handshake(other, world.a.tokens[0]))  # the camera elsewhere still connects
        return answers

    assert asyncio.run(scenario()) == [403, 403, 403, 403, 101]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"GIF89a not a jpeg at all", CLOSE_NOT_JPEG),
        (jpeg(1)[:-2], CLOSE_NOT_JPEG),  # truncated: no end marker
        (b"\xff\xd8\xff" + b"\0" * 1_000_001 + b"\xff\xd9", CLOSE_TOO_LARGE),
        ("hello", CLOSE_NOT_JPEG),  # text
    ],
    ids=["garbage", "truncated", "oversized", "text"],
)
def test_a_bad_frame_closes_that_camera_only(asgi_server, world: World, payload, code):
    """B's camera keeps streaming to B's viewer while A's camera is closed for a bad frame."""
    cookie = session_cookie(client_for(world.b.owner))

    async def scenario() -> tuple[int | None, bytes]:
        viewer_b = await open_viewer(asgi_server, world.b.cameras[0].pk, cookie)
        camera_b = await open_device(asgi_server, world.b.tokens[0])
        camera_a = await open_device(asgi_server, world.a.tokens[0])
        await camera_a.send(payload)
        closed = await wait_closed(camera_a, 3)
        await camera_b.send(jpeg(9))
        frame = await asyncio.wait_for(viewer_b.recv(), 5)
        await camera_b.close()
        await viewer_b.close()
        return closed, frame

    closed, frame = asyncio.run(scenario())
    assert closed == code
    assert frame == jpeg(9)


def test_flooding_closes_the_camera_with_too_fast(asgi_server, world: World):
    async def scenario() -> int | None:
        camera = await open_device(asgi_server, world.a.tokens[0])
        try:
            for n in range(200):
                await camera.send(jpeg(n))
        except Exception:  # noqa: S110  (the server may close mid-burst)
            pass
        return await wait_closed(camera, 3)

    assert asyncio.run(scenario()) == CLOSE_TOO_FAST


def test_the_camera_is_online_while_connected_and_offline_after(asgi_server, world: World):
    from accounts.tenancy import account_scope

    def status() -> str:
        with account_scope(world.a.account.pk):
            return Camera.objects.get(pk=world.a.cameras[0].pk).status

    async def becomes(wanted: str) -> str:
        # The server writes the status after accepting and after noticing the close: poll, not sleep.
        deadline = time.monotonic() + 5
        while (found := await asyncio.to_thread(status)) != wanted and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return found

    async def scenario() -> tuple[str, str]:
        camera = await open_device(asgi_server, world.a.tokens[0])
        await camera.send(jpeg(1))
        during = await becomes(CameraStatus.ONLINE)
        await camera.close()
        return during, await becomes(CameraStatus.OFFLINE)

    assert asyncio.run(scenario()) == (CameraStatus.ONLINE, CameraStatus.OFFLINE)
