"""The simulated camera: its picture, and its frames reaching a viewer through daphne."""

import asyncio
from datetime import datetime
from io import StringIO

import cv2
import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from devices.consumers import is_jpeg
from devices.simulator import HandshakeRefused, Scene, ServerClosed, encode_jpeg, push
from devices.tests.conftest import client_for, open_viewer, session_cookie

NOON = datetime(2030, 1, 1, 12, 0, 0)


def test_it_renders_the_requested_size():
    image = Scene(640, 360).render(0.0, now=NOON)
    assert image.shape == (360, 640, 3)
    assert image.dtype == np.uint8


def test_it_moves_between_frames_and_is_deterministic_for_a_given_time():
    scene = Scene(640, 360)
    assert not np.array_equal(scene.render(0.0, now=NOON), scene.render(1.0, now=NOON))
    assert np.array_equal(scene.render(1.0, now=NOON), scene.render(1.0, now=NOON))


def test_it_encodes_a_valid_jpeg_of_a_realistic_size():
    data = encode_jpeg(Scene(1280, 720, label="Front door").render(2.5), quality=80)
    assert data.startswith(b"\xff\xd8\xff")
    assert data.endswith(b"\xff\xd9")
    assert is_jpeg(data)
    assert 40_000 <= len(data) <= 200_000
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    assert decoded.shape == (720, 1280, 3)


def test_it_refuses_a_size_that_is_not_width_x_height():
    with pytest.raises(CommandError, match="WIDTHxHEIGHT"):
        call_command("simulate_camera", "--token", "nvr1.x.y.z", "--size", "12x")


@pytest.mark.django_db(transaction=True)
def test_it_streams_to_a_viewer_of_its_household_over_real_sockets(asgi_server, world, cams):
    cookie = session_cookie(client_for(world.a.owner))
    scene = Scene(1280, 720, label="Front door")

    async def scenario() -> tuple[int, list[bytes]]:
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie)
        camera = asyncio.create_task(
            push(f"{asgi_server.ws}/ws/device/", cams["a"].token, fps=10, scene=scene, seconds=1.5)
        )
        received: list[bytes] = []
        try:
            while True:
                try:
                    frame = await asyncio.wait_for(viewer.recv(), 1.0)
                except TimeoutError:
                    if camera.done():
                        break
                    continue
                received.append(frame)
                await viewer.send("ack")
        finally:
            await viewer.close()
        return await camera, received

    sent, received = asyncio.run(scenario())
    assert sent == 15
    assert len(received) >= 5
    for frame in received:
        assert isinstance(frame, bytes)
        assert is_jpeg(frame)
        decoded = cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None
        assert decoded.shape == (720, 1280, 3)


@pytest.mark.django_db(transaction=True)
def test_it_runs_several_cameras_from_the_command(asgi_server, cams):
    out = StringIO()
    call_command(
        "simulate_camera",
        *("--token", cams["a"].token, "--token", cams["b"].token, "--label", "Porch"),
        *("--url", f"{asgi_server.ws}/ws/device/", "--size", "320x240", "--fps", "10", "--seconds", "0.5"),
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Porch: pushing 320x240 at 10 fps")
    assert lines[1].startswith("Camera 2: pushing 320x240 at 10 fps")
    assert sorted(lines[2:]) == ["Camera 2: sent 5 frames", "Porch: sent 5 frames"]
    assert cams["a"].token not in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_raises_a_clear_error_when_the_token_is_wrong(asgi_server, cams):
    prefix, account, token_id, secret = cams["a"].token.split(".")
    forged = f"{prefix}.{account}.{token_id}.{'x' * len(secret)}"

    async def scenario() -> None:
        await push(f"{asgi_server.ws}/ws/device/", forged, fps=10, scene=Scene(64, 48), seconds=1)

    with pytest.raises(HandshakeRefused, match="HTTP 403") as refused:
        asyncio.run(scenario())
    assert refused.value.code == 403


@pytest.mark.django_db(transaction=True)
def test_it_raises_the_close_code_when_the_server_closes_the_connection(asgi_server, cams):
    # 80 fps against the server's cap of 30 a second: the server closes with 4429 within about a second.
    async def scenario() -> None:
        await push(f"{asgi_server.ws}/ws/device/", cams["a"].token, fps=80, scene=Scene(64, 48), seconds=3)

    with pytest.raises(ServerClosed, match="4429") as closed:
        asyncio.run(scenario())
    assert closed.value.code == 4429
    assert "rate cap" in str(closed.value)
