"""Cameras for the two households of the root conftest, and socket helpers."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pytest
import websockets
from django.test import Client
from websockets.typing import Origin

from accounts.models import Role
from accounts.tenancy import account_scope
from conftest import Household, World, client_for
from devices.models import Camera, CameraKind
from devices.services import camera_access_set, camera_create
from nvr.testing import LiveServer
from recordings.models import Recording
from recordings.tests.factories import make_recording


@dataclass
class CameraFixture:
    camera: Camera
    token: str


def add_camera(household: Household, name: str = "Front door") -> CameraFixture:
    with account_scope(household.account.pk):
        camera, token = camera_create(actor=household.memberships[Role.OWNER], name=name, kind=CameraKind.PUSH)
    assert token is not None
    return CameraFixture(camera, token)


@pytest.fixture
def cams(world: World) -> dict[str, CameraFixture]:
    """One push camera in each household."""
    return {"a": add_camera(world.a, "Front door"), "b": add_camera(world.b, "Front door")}


@dataclass
class Limited:
    """Household A with a second camera ("garden", with a ready clip) to which its member
    and viewer are limited: its first camera ("porch", with two clips when the test asks
    for world_with_clips) is kept from them."""

    porch: Camera
    garden: Camera
    garden_clip: Recording


def limit_member_and_viewer(household: Household) -> Limited:
    garden = add_camera(household, "Garden").camera
    with account_scope(household.account.pk):
        clip = make_recording(garden)
        owner = household.memberships[Role.OWNER]
        for role in (Role.MEMBER, Role.VIEWER):
            household.memberships[role].refresh_from_db()
            camera_access_set(actor=owner, membership=household.memberships[role], limited=True, cameras=[garden])
    return Limited(porch=household.cameras[0], garden=garden, garden_clip=clip)


@pytest.fixture
def limited(world: World) -> Limited:
    return limit_member_and_viewer(world.a)


def jpeg(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    image = np.full((size[1], size[0], 3), seed % 255, dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data)


def session_cookie(client: Client) -> str:
    return f"sessionid={client.cookies['sessionid'].value}"


class ViewerSocket:
    """A live viewer's socket whose ``recv`` returns the next frame; the camera's status
    messages (text) that came before it are kept in ``statuses``."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.statuses: list[dict[str, Any]] = []

    async def recv(self) -> bytes:
        while True:
            message = await self.socket.recv()
            if isinstance(message, bytes):
                return message
            self.statuses.append(json.loads(message))

    async def status(self) -> dict[str, Any]:
        """The next status message (frames before it are dropped)."""
        while True:
            message = await self.socket.recv()
            if isinstance(message, str):
                status: dict[str, Any] = json.loads(message)
                self.statuses.append(status)
                return status

    def __getattr__(self, name: str) -> Any:
        return getattr(self.socket, name)


async def open_watching(server: LiveServer, path: str, cookie: str) -> ViewerSocket:
    """A browser's live socket at ``path`` (its session cookie, the site's origin)."""
    return ViewerSocket(
        await websockets.connect(
            f"{server.ws}{path}", additional_headers=[("Cookie", cookie)], origin=Origin(server.origin), open_timeout=5
        )
    )


async def open_viewer(server: LiveServer, camera_id: Any, cookie: str, *, mp4: bool = False) -> ViewerSocket:
    return await open_watching(server, f"/ws/live/{camera_id}/{'?format=mp4' if mp4 else ''}", cookie)


async def open_device(server: LiveServer, token: str) -> Any:
    return await websockets.connect(
        f"{server.ws}/ws/device/", additional_headers=[("Authorization", f"Bearer {token}")], open_timeout=5
    )


async def wait_closed(socket: Any, within: float) -> int | None:
    """The close code if the server closes the socket within ``within`` seconds, else None."""
    try:
        await asyncio.wait_for(socket.wait_closed(), within)
    except TimeoutError:
        return None
    return socket.close_code


__all__ = ["Limited", "World", "client_for", "limit_member_and_viewer"]
