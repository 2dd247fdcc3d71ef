"""The portal in a real browser: Debian's Chromium, driven by Playwright.

CI installs Chromium (.ci/run) and must run these; elsewhere they skip when
Chromium is not installed.
"""

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from accounts.tenancy import account_scope
from conftest import RTSP_PASSWORD, RTSP_USER, World
from devices.models import Camera
from devices.services import camera_source_url
from nvr.testing import LiveServer, chromium, session_cookies, wait_in_page
from tools.simulator.stream import Scene, push

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Stopped(Exception):
    """Ends the simulated camera's push from its frame callback."""


@pytest.fixture
def sessions(world: World) -> dict[str, str]:
    return session_cookies({"a_viewer": world.a.viewer, "a_viewer_elsewhere": world.a.viewer, "a_owner": world.a.owner})


@pytest.fixture
def page(asgi_server: LiveServer, sessions: dict[str, str]) -> Iterator[Any]:
    with chromium() as browser:
        yield browser.new_page(viewport={"width": 1200, "height": 800})


def sign_in(page: Any, server: LiveServer, session: str) -> None:
    host = server.http.split("//")[1].split(":")[0]
    page.context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/"}])


@contextlib.contextmanager
def camera_pushing(server: LiveServer, token: str, size: tuple[int, int]) -> Iterator[None]:
    """A simulated camera pushing until the block ends, however slow the machine: a fixed
    duration could end (and the camera go offline) before the page has seen everything."""
    stop = threading.Event()

    def stop_when_asked(_sent: int) -> None:
        if stop.is_set():
            raise Stopped

    def camera_pushes() -> None:
        with contextlib.suppress(Stopped):
            asyncio.run(
                push(
                    f"{server.ws}/ws/device/",
                    token,
                    fps=10,
                    scene=Scene(*size, label="porch"),
                    seconds=120,
                    on_frame=stop_when_asked,
                )
            )

    pusher = threading.Thread(target=camera_pushes, daemon=True)
    pusher.start()
    try:
        yield
    finally:
        stop.set()
        pusher.join(timeout=15)


def test_it_shows_moving_live_pictures_and_who_is_watching(
    page: Any, asgi_server: LiveServer, world: World, sessions: dict[str, str]
):
    from playwright.sync_api import expect

    camera, token = world.a.cameras[0], world.a.tokens[0]
    with camera_pushing(asgi_server, token, (640, 360)):
        sign_in(page, asgi_server, sessions["a_viewer"])
        page.goto(f"{asgi_server.http}/cameras/{camera.pk}/")
        wait_in_page(page, "(document.querySelector('[data-live-camera] img') || {}).naturalWidth === 640", 15000)
        first = page.eval_on_selector("[data-live-camera] img", "img => img.src")
        wait_in_page(page, f"document.querySelector('[data-live-camera] img').src !== {first!r}", 10000)
        expect(page.locator("[data-field=watchers]")).to_contain_text("Vera", timeout=10000)
        expect(page.locator("[data-field=status]")).to_have_text("Online", timeout=10000)
        expect(page.locator("[data-live-state]")).to_have_text("live", timeout=10000)


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


def test_signing_out_everywhere_else_ends_a_live_view_in_another_browser(
    page: Any, asgi_server: LiveServer, world: World, sessions: dict[str, str]
):
    camera = world.a.cameras[0]
    with camera_pushing(asgi_server, world.a.tokens[0], (320, 240)):
        sign_in(page, asgi_server, sessions["a_viewer"])
        page.goto(f"{asgi_server.http}/cameras/{camera.pk}/")
        wait_in_page(page, "(document.querySelector('[data-live-camera] img') || {}).naturalWidth === 320", 15000)
        other = page.context.browser.new_context().new_page()  # the same person, another browser
        sign_in(other, asgi_server, sessions["a_viewer_elsewhere"])
        other.goto(f"{asgi_server.http}/account/sessions/")
        with other.expect_navigation():  # the click's navigation, not the page already loaded
            other.click("[data-testid=end-other-sessions]")
        started = time.monotonic()
        wait_in_page(page, "document.querySelector('[data-live-state]').textContent !== 'live'", 3000)
        assert time.monotonic() - started < 1.5  # a second, plus the page's own reaction
        assert page.goto(f"{asgi_server.http}/cameras/{camera.pk}/").url.startswith(
            f"{asgi_server.http}/account/login/"
        )


# Chromium reports each refusal on the console and as a securitypolicyviolation event.
CSP_EVENTS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} refused ${event.blockedURI || "inline"}`);
});
"""


@pytest.mark.usefixtures("world_with_clips")
def test_no_main_page_breaks_the_content_security_policy(
    page: Any, asgi_server: LiveServer, world: World, sessions: dict[str, str]
):
    """Each main page in Chromium, as the household's owner: the page's own scripts,
    styles, live pictures, video and Swagger UI all run under the site's policy."""
    from conftest import main_pages

    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(CSP_EVENTS)
    sign_in(page, asgi_server, sessions["a_owner"])
    violations: dict[str, list[str]] = {}
    for name, path in main_pages(world.a).items():
        console.clear()
        response = page.goto(f"{asgi_server.http}{path}", wait_until="load")
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        if name == "api docs":
            # The schema is fetched and drawn; an operation opens and runs ("Try it out", "Execute").
            page.wait_for_selector(".swagger-ui .opblock", timeout=10000)
            page.click(".opblock-summary >> nth=0")
            page.click("text=Try it out >> nth=0")
            page.click("text=Execute >> nth=0")
            page.wait_for_selector(".responses-wrapper .live-responses-table", timeout=10000)
            page.click(".models-control")
        else:
            page.wait_for_timeout(300)  # scripts that run after load (live sockets, status polling)
        found = page.evaluate("window.__cspViolations") + [t for t in console if "Content Security Policy" in t]
        if found:
            violations[name] = found
    assert violations == {}


def test_the_csp_check_sees_a_violation(page: Any, asgi_server: LiveServer, sessions: dict[str, str]):
    """The check above is not vacuous: an inline script injected into a page is refused and seen."""
    page.add_init_script(CSP_EVENTS)
    sign_in(page, asgi_server, sessions["a_owner"])
    page.goto(f"{asgi_server.http}/", wait_until="load")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran") is None
    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))


def test_the_wizard_adds_the_demos_rtsp_camera(
    page: Any, asgi_server: LiveServer, world: World, sessions: dict[str, str], rtsp_server: Any
):
    """The demo's RTSP camera (rtsp://127.0.0.1:…/cam) added as a homeowner would: "Other",
    Test connection (a picture, h264, its size), Add; then a push camera's token copied."""
    from playwright.sync_api import expect

    page.add_init_script(CSP_EVENTS)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=asgi_server.http)
    sign_in(page, asgi_server, sessions["a_owner"])
    page.goto(f"{asgi_server.http}/cameras/add/")
    page.fill("#id_name", "Driveway (RTSP)")
    page.check("input[name=kind][value=pull]")
    page.select_option("#id_preset", "hikvision")
    page.fill("#id_host", "192.168.1.64")
    page.fill("#id_camera_user", "admin")
    page.fill("#id_camera_password", "secret")
    expect(page.locator("[data-address-preview] code")).to_have_text(
        "rtsp://admin:••••@192.168.1.64:554/Streaming/Channels/101"
    )
    page.select_option("#id_preset", "other")  # the demo's camera has no brand: its full address
    expect(page.locator("#id_host")).to_be_hidden()
    page.fill("#id_source_url", rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD))
    expect(page.locator("[data-address-preview] code")).to_have_text(
        f"rtsp://{RTSP_USER}:••••@127.0.0.1:{rtsp_server.port}/cam"
    )
    page.click("[data-test-connection]")
    message = page.locator("[data-test-message]")
    expect(message).to_contain_text("h264", timeout=20000)
    expect(message).to_contain_text("640x360")
    wait_in_page(page, "document.querySelector('[data-test-snapshot]').naturalWidth === 640", 5000)
    with page.expect_navigation():
        page.click("form[data-camera-wizard] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Driveway (RTSP)")

    def saved() -> tuple[str, str]:  # outside Playwright's event loop: Django refuses async contexts
        try:
            with account_scope(world.a.account.pk):
                camera = Camera.objects.get(name="Driveway (RTSP)")
                return str(camera.pk), camera_source_url(camera)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        camera_id, address = pool.submit(saved).result()
    assert page.url == f"{asgi_server.http}/cameras/{camera_id}/"
    assert address == rtsp_server.url(user=RTSP_USER, password=RTSP_PASSWORD)

    page.goto(f"{asgi_server.http}/cameras/add/")
    page.fill("#id_name", "Gate")
    page.check("input[name=kind][value=push]")
    expect(page.locator("[data-test-connection]")).to_be_hidden()
    with page.expect_navigation():
        page.click("form[data-camera-wizard] button[type=submit]")
    token = page.locator("[data-testid=device-token]").inner_text().strip()
    page.click("button[data-copy=device-token]")
    expect(page.locator("button[data-copy=device-token]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert page.locator("[data-testid=device-socket-url]").inner_text() == f"{asgi_server.ws}/ws/device/"
    assert page.evaluate("window.__cspViolations") == []
