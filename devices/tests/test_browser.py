"""The portal in a real browser: Debian's Chromium, driven by Playwright.

CI installs Chromium (.ci/run) and must run these; elsewhere they skip when
Chromium is not installed.
"""

import asyncio
import contextlib
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from conftest import World
from devices.simulator import Scene, push
from nvr.testing import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Stopped(Exception):
    """Ends the simulated camera's push from its frame callback."""


@pytest.fixture
def sessions(world: World) -> dict[str, str]:
    """Session cookies, made before the browser starts: Playwright's sync API runs
    the test in a greenlet whose own database connection nobody would close."""
    cookies = {}
    for name, user in (("a_viewer", world.a.viewer), ("a_owner", world.a.owner)):
        client = Client()
        client.force_login(user)
        cookies[name] = client.cookies["sessionid"].value
    return cookies


@pytest.fixture
def page(asgi_server: LiveServer, sessions: dict[str, str]) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 800})
        finally:
            browser.close()


def sign_in(page: Any, server: LiveServer, session: str) -> None:
    host = server.http.split("//")[1].split(":")[0]
    page.context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/"}])


def test_it_shows_moving_live_pictures_and_who_is_watching(
    page: Any, asgi_server: LiveServer, world: World, sessions: dict[str, str]
):
    from playwright.sync_api import expect

    camera, token = world.a.cameras[0], world.a.tokens[0]
    stop = threading.Event()

    def stop_when_asked(_sent: int) -> None:
        if stop.is_set():
            raise Stopped

    def camera_pushes() -> None:
        # Until the test has seen everything, however slow the machine: a fixed duration
        # could end (and the camera go offline) before the page's status poll.
        with contextlib.suppress(Stopped):
            asyncio.run(
                push(
                    f"{asgi_server.ws}/ws/device/",
                    token,
                    fps=10,
                    scene=Scene(640, 360, label="porch"),
                    seconds=120,
                    on_frame=stop_when_asked,
                )
            )

    pusher = threading.Thread(target=camera_pushes, daemon=True)
    pusher.start()
    try:
        sign_in(page, asgi_server, sessions["a_viewer"])
        page.goto(f"{asgi_server.http}/cameras/{camera.pk}/")
        page.wait_for_function("document.querySelector('img[data-live-camera]').naturalWidth === 640", timeout=15000)
        first = page.eval_on_selector("img[data-live-camera]", "img => img.src")
        page.wait_for_function(f"document.querySelector('img[data-live-camera]').src !== {first!r}", timeout=10000)
        expect(page.locator("[data-field=watchers]")).to_contain_text("Vera", timeout=10000)
        expect(page.locator("[data-field=status]")).to_have_text("Online", timeout=10000)
        expect(page.locator("[data-live-state]")).to_have_text("live", timeout=10000)
    finally:
        stop.set()
        pusher.join(timeout=15)


def test_another_households_camera_page_is_a_404_and_its_socket_never_opens(
    page: Any, asgi_server: LiveServer, world: World, sessions: dict[str, str]
):
    sign_in(page, asgi_server, sessions["a_owner"])
    response = page.goto(f"{asgi_server.http}/cameras/{world.b.cameras[0].pk}/")
    assert response.status == 404
    opened = page.evaluate(
        """id => new Promise(resolve => {
            const socket = new WebSocket(`ws://${location.host}/ws/live/${id}/`);
            socket.onopen = () => resolve(true);
            socket.onclose = () => resolve(false);
        })""",
        str(world.b.cameras[0].pk),
    )
    assert opened is False
