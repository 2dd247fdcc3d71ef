"""H.264 live over real sockets: a push camera sends access units into daphne, viewers whose
browsers play MP4 receive fragments that decode to what the camera sent; the camera's
status reaches viewers at once."""

import asyncio
import contextlib
import io
import time
from typing import Any

import av
import pytest

from accounts.tenancy import account_scope
from devices.consumers import CLOSE_NOT_JPEG
from devices.selectors import Watching, camera_watched
from devices.tests.conftest import (
    client_for,
    jpeg,
    open_device,
    open_viewer,
    open_watching,
    session_cookie,
    wait_closed,
)
from devices.tests.h264_streams import encode
from nvr.testing import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

GREEN = (0, 200, 0)  # BGR


def decoded(messages: list[bytes]) -> list[Any]:
    container = av.open(io.BytesIO(b"".join(messages)), "r")
    try:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]
    finally:
        container.close()


async def pictures(viewer: Any, count: int) -> list[bytes]:
    """``count`` messages, acked as a browser would."""
    received = []
    for _ in range(count):
        received.append(await asyncio.wait_for(viewer.recv(), 5))
        await viewer.send("ack")
    return received


def test_a_push_camera_sends_h264_and_a_viewer_receives_pictures_of_that_colour(asgi_server, world, cams):
    cookie = session_cookie(client_for(world.a.viewer))
    units, _ = encode(count=10, keyint=5, colour=GREEN)

    async def scenario() -> tuple[list[bytes], list[dict[str, Any]]]:
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie, mp4=True)
        device = await open_device(asgi_server, cams["a"].token)
        received: list[bytes] = []

        async def watch() -> None:  # acking as it goes, as a browser does
            while sum(message.count(b"moof") for message in received) < 10:
                received.extend(await pictures(viewer, 1))

        watching = asyncio.create_task(watch())
        for data, *_ in units:
            await device.send(data)
            await asyncio.sleep(1 / 15)
        await asyncio.wait_for(watching, 5)
        await device.close()
        await viewer.close()
        return received, viewer.statuses

    received, statuses = asyncio.run(scenario())
    assert received[0][4:8] == b"ftyp"  # the init segment first, then fragments
    frames = decoded(received)
    assert len(frames) == 10
    assert frames[0].shape == (96, 160, 3)
    blue, green, red = frames[-1][48, 100]
    assert green > 150
    assert max(blue, red) < 50
    assert [status["state"] for status in statuses] == ["offline", "online"]


def test_a_viewer_joining_late_starts_at_once_from_the_last_keyframe(asgi_server, world, cams):
    """No wait for the camera's next keyframe: the server kept the pictures since the last one."""
    cookie = session_cookie(client_for(world.a.viewer))
    units, _ = encode(count=8, keyint=5)  # keyframes at 0 and 5

    async def scenario() -> tuple[list[bytes], float]:
        device = await open_device(asgi_server, cams["a"].token)
        for data, *_ in units:
            await device.send(data)
        await asyncio.sleep(0.3)
        started = time.monotonic()
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie, mp4=True)
        received = [await asyncio.wait_for(viewer.recv(), 5)]
        waited = time.monotonic() - started
        await device.close()
        await viewer.close()
        return received, waited

    received, waited = asyncio.run(scenario())
    assert received[0][4:8] == b"ftyp"
    assert received[0].count(b"moof") == 3  # pictures 5, 6 and 7 in one message
    assert len(decoded(received)) == 3
    assert waited < 2  # the camera sends nothing more: only the kept pictures can answer


def test_a_viewer_whose_browser_cannot_play_mp4_is_told_so(asgi_server, world, cams, settings):
    cookie = session_cookie(client_for(world.a.viewer))
    units, _ = encode(count=30, keyint=10)

    async def scenario() -> list[dict[str, Any]]:
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie)
        device = await open_device(asgi_server, cams["a"].token)
        status: dict[str, Any] = {}
        for data, *_ in units:
            await device.send(data)
            await asyncio.sleep(0.15)  # 4.5 s: past the wait before telling
        deadline = time.monotonic() + 5
        while status.get("state") != "unplayable" and time.monotonic() < deadline:
            status = await asyncio.wait_for(viewer.status(), 5)
        await device.close()
        await viewer.close()
        return viewer.statuses

    assert "unplayable" in [status["state"] for status in asyncio.run(scenario())]


@pytest.mark.parametrize(("first", "then"), [("jpeg", "h264"), ("h264", "jpeg")])
def test_a_camera_socket_carries_one_format(asgi_server, world, cams, first, then):
    units, _ = encode(count=1)
    frames = {"jpeg": jpeg(1), "h264": units[0][0]}

    async def scenario() -> int | None:
        device = await open_device(asgi_server, cams["a"].token)
        await device.send(frames[first])
        await device.send(frames[then])
        return await wait_closed(device, 5)

    assert asyncio.run(scenario()) == CLOSE_NOT_JPEG


def test_bytes_after_a_start_code_that_are_not_h264_close_the_socket(asgi_server, world, cams):
    broken_sps = b"\x00\x00\x00\x01\x67\x42\x00\x1e" + b"\x00" * 10 + b"\x00\x00\x00\x01\x68\xce\x38\x80"
    idr = b"\x00\x00\x00\x01\x65\x88\x84\x00"

    async def scenario() -> int | None:
        device = await open_device(asgi_server, cams["a"].token)
        await device.send(broken_sps + idr)
        return await wait_closed(device, 5)

    assert asyncio.run(scenario()) == CLOSE_NOT_JPEG


def test_viewers_hear_within_a_second_that_the_camera_stopped(asgi_server, world, cams):
    cookie = session_cookie(client_for(world.a.viewer))

    async def scenario() -> tuple[list[str], float]:
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie)
        assert (await viewer.status())["state"] == "offline"  # never seen yet: said at once
        device = await open_device(asgi_server, cams["a"].token)
        await device.send(jpeg(1))
        assert (await asyncio.wait_for(viewer.status(), 5))["state"] == "online"
        await asyncio.wait_for(viewer.recv(), 5)
        started = time.monotonic()
        await device.close()
        state = (await asyncio.wait_for(viewer.status(), 5))["state"]
        took = time.monotonic() - started
        await viewer.close()
        return [state], took

    states, took = asyncio.run(scenario())
    assert states == ["offline"]
    assert took < 1


def test_what_a_pull_worker_makes_follows_what_the_watchers_browsers_play(asgi_server, world, cams):
    """Each socket says what its browser plays; the worker relays a codec only to those who play
    it and decodes to JPEG only for the others."""
    cookie = session_cookie(client_for(world.a.viewer))
    camera = cams["a"].camera

    def watching_now() -> Watching:
        with account_scope(camera.account_id):
            return camera_watched(camera_id=camera.pk)

    async def open_as(path: str) -> Any:
        return await open_watching(asgi_server, f"/ws/live/{camera.pk}/{path}", cookie)

    async def scenario() -> list[Watching]:
        seen = [await asyncio.to_thread(watching_now)]
        sockets = [await open_as("?format=mp4")]
        seen.append(await asyncio.to_thread(watching_now))
        sockets.append(await open_as("?format=mp4&hevc=1"))
        seen.append(await asyncio.to_thread(watching_now))
        sockets.append(await open_as(""))
        seen.append(await asyncio.to_thread(watching_now))
        for socket in sockets:
            await socket.close()
        return seen

    nobody, h264, both, everyone = asyncio.run(scenario())
    assert not nobody.anyone
    assert (h264.relay("h264"), h264.relay("hevc"), h264.needs_jpeg("h264"), h264.needs_jpeg("hevc")) == (
        True,
        False,
        False,
        True,  # an H.265 camera: JPEG for this browser
    )
    assert (both.relay("hevc"), both.needs_jpeg("hevc")) == (True, True)  # one plays H.265, one does not
    assert (everyone.needs_jpeg("h264"), everyone.needs_jpeg("mjpeg")) == (True, True)
    assert Watching(hevc=True, h264=True).needs_jpeg("hevc") is False


def test_an_mp4_viewer_may_ack_several_messages_at_once(world, cams, django_db_blocker):
    cookie = session_cookie(client_for(world.a.viewer))
    units, _ = encode(count=9, keyint=9)

    async def scenario(server: Any) -> list[int]:
        viewer = await open_viewer(server, cams["a"].camera.pk, cookie, mp4=True)
        device = await open_device(server, cams["a"].token)
        counts = []
        for batch in range(3):
            for data, *_ in units[batch * 3 : batch * 3 + 3]:
                await device.send(data)
                await asyncio.sleep(0.05)  # one message each: nothing piles up
            received = 0
            with contextlib.suppress(TimeoutError):
                while True:
                    await asyncio.wait_for(viewer.recv(), 1)
                    received += 1
            counts.append(received)
            await viewer.send("ack 2" if batch == 0 else "ack 99")
        await device.close()
        await viewer.close()
        return counts

    with django_db_blocker.unblock(), daphne_server({"LIVE_MP4_CREDITS": "2"}) as server:
        counts = asyncio.run(scenario(server))
    # Two in flight, then held; each batched ack frees two: what queued meanwhile, and the next.
    assert counts == [2, 2, 2]
