"""H.264 live in Chromium (Media Source Extensions): from a push camera and from an RTSP camera
read by the web process (as bin/demo runs it), a picture of known colour is shown; a viewer
joining late sees one within a keyframe interval; a stopped or frozen camera says so; a
browser without Media Source Extensions gets JPEG."""

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from accounts.models import AccessEvent, AccessKind
from accounts.tenancy import account_scope
from conftest import RTSP_PASSWORD, RTSP_USER, World
from devices.tests.conftest import open_device
from devices.tests.test_browser import sign_in
from devices.tests.test_ingest import add_pull_camera
from devices.tests.test_revocation import browser as http_client_of
from nvr.testing import LiveServer, chromium, daphne_server, session_cookies, wait_in_page
from tools.rtsp_testing import RtspServer
from tools.simulator.h264 import solid_colour_access_units

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAGENTA = (200, 40, 220)  # BGR
TEAL = (170, 150, 20)

# The colour at the middle of the shown picture, read through a canvas (RGB).
PIXEL = """() => {
  const video = document.querySelector('[data-live-camera] video');
  if (!video || !video.videoWidth || video.readyState < 2) { return null; }
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0);
  return Array.from(context.getImageData(video.videoWidth / 2, video.videoHeight / 2, 1, 1).data.slice(0, 3));
}"""


STATE = "document.querySelector('[data-live-state]')"


def close_to(rgb: list[int] | None, bgr: tuple[int, int, int], tolerance: int = 30) -> bool:
    return rgb is not None and all(abs(a - b) <= tolerance for a, b in zip(rgb, reversed(bgr), strict=True))


def wait_for_colour(page: Any, bgr: tuple[int, int, int], timeout: float) -> float:
    """Seconds until the shown picture has that colour."""
    started = time.monotonic()
    while not close_to(page.evaluate(PIXEL), bgr):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"no picture of {bgr} within {timeout} s; shown: {page.evaluate(PIXEL)}")
        page.wait_for_timeout(50)
    return time.monotonic() - started


def state(page: Any) -> str:
    return str(page.locator("[data-live-state]").first.text_content())


@dataclass
class Camera:
    frozen: threading.Event = field(default_factory=threading.Event)  # set: the socket stays open, silent
    keyframe_sent: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def h264_camera(server: LiveServer, token: str, units: list[bytes], fps: float) -> Iterator[Camera]:
    """A push camera sending ``units`` (a keyframe first) over and over until the block ends."""
    stop, camera = threading.Event(), Camera()

    async def send() -> None:
        device = await open_device(server, token)
        n = 0
        while not stop.is_set():
            if not camera.frozen.is_set():
                await device.send(units[n % len(units)])
                if n % len(units) == 0:
                    camera.keyframe_sent.set()
                n += 1
            await asyncio.sleep(1 / fps)
        await device.close()

    thread = threading.Thread(target=lambda: asyncio.run(send()), daemon=True)
    thread.start()
    try:
        yield camera
    finally:
        stop.set()
        thread.join(timeout=10)


def test_h264_from_a_push_camera_plays_then_freezes_then_goes_offline(asgi_server: LiveServer, world: World):
    camera, token = world.a.cameras[0], world.a.tokens[0]
    session = session_cookies({"viewer": world.a.viewer})["viewer"]
    units = solid_colour_access_units(320, 180, 15, 6, MAGENTA, keyframe_every=6)
    owner = http_client_of(asgi_server, world.a.owner)  # before Playwright's loop: Django's client is sync
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, asgi_server, session)
        with h264_camera(asgi_server, token, units, 15) as pushing:
            page.goto(f"{asgi_server.http}/cameras/{camera.pk}/")
            wait_for_colour(page, MAGENTA, 15)
            assert page.evaluate("document.querySelector('[data-live-camera] video').videoWidth") == 320
            assert page.evaluate("document.querySelector('[data-live-camera] img')") is None  # MP4, not JPEG
            wait_in_page(page, f"{STATE}.textContent === 'live'", 5000)

            # A joiner just after a keyframe: the next is 6 s away, so a picture within 4 s
            # can only come from the pictures the server kept since the last one.
            late = browser.new_page()
            sign_in(late, asgi_server, session)
            pushing.keyframe_sent.clear()
            assert pushing.keyframe_sent.wait(10)
            started = time.monotonic()
            late.goto(f"{asgi_server.http}/cameras/{camera.pk}/")
            wait_for_colour(late, MAGENTA, 10)
            assert time.monotonic() - started < 4

            pushing.frozen.set()  # the socket stays open, no more pictures
            wait_in_page(page, f"/^last picture \\d+ s ago$/.test({STATE}.textContent)")
            assert page.evaluate("document.querySelector('[data-live-camera]').classList.contains('stale')")
        started = time.monotonic()  # the camera's socket closes
        wait_in_page(page, f"{STATE}.textContent.startsWith('offline')", 3000)
        assert time.monotonic() - started < 1.5  # a second, plus the page's own tick
        assert page.evaluate("document.querySelector('[data-live-camera]').dataset.liveStatus") == "offline"

        assert owner.post(f"/cameras/{camera.pk}/edit/", {"name": camera.name}) == 302  # unticked: disabled
        started = time.monotonic()
        wait_in_page(page, f"{STATE}.textContent === 'disabled'", 3000)
        assert time.monotonic() - started < 1.5


def test_an_offline_camera_shows_offline_and_no_broken_image(asgi_server: LiveServer, world: World):
    camera = world.a.cameras[0]
    session = session_cookies({"viewer": world.a.viewer})["viewer"]
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, asgi_server, session)
        page.goto(f"{asgi_server.http}/cameras/")
        box = f"document.querySelector('[data-live-camera=\"{camera.pk}\"]')"
        wait_in_page(page, f"{box}.dataset.placeholder === 'offline'", 5000)
        assert page.evaluate(f"{box}.querySelector('img, video')") is None
        assert page.evaluate(f"getComputedStyle({box}, '::before').content") == '"offline"'


@pytest.fixture
def solid_clip(tmp_path: Path) -> Path:
    """20 s of one colour, 320x180 at 15 fps, a keyframe every 2 s: what the RTSP camera plays."""
    path = tmp_path / "teal.mp4"
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=15, options={"preset": "ultrafast", "g": "30", "bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 15)
        picture = np.full((180, 320, 3), TEAL, np.uint8)
        for n in range(15 * 20):
            frame = av.VideoFrame.from_ndarray(picture, format="bgr24").reformat(format="yuv420p")
            frame.pts = n
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


@pytest.mark.rtsp
@pytest.mark.usefixtures("_rtsp_available")
def test_h264_from_an_rtsp_camera_plays_and_a_browser_without_mse_gets_jpeg(
    world: World, solid_clip: Path, django_db_blocker: Any
):
    session = session_cookies({"viewer": world.a.viewer})["viewer"]
    env = {"NVR_CAMERA_ALLOWED_NETWORKS": "127.0.0.1/32"}
    with RtspServer(solid_clip, user=RTSP_USER, password=RTSP_PASSWORD) as rtsp:
        camera = add_pull_camera(world.a, "Driveway", rtsp.url(user=RTSP_USER, password=RTSP_PASSWORD))
        with django_db_blocker.unblock(), daphne_server(env, ingest=True) as server, chromium() as browser:
            page = browser.new_page()
            sign_in(page, server, session)
            page.goto(f"{server.http}/cameras/{camera.pk}/")
            wait_for_colour(page, TEAL, 30)  # the worker connects, then relays from the next keyframe
            assert page.evaluate("document.querySelector('[data-live-camera] video').videoHeight") == 180

            old = browser.new_page()
            old.add_init_script("delete window.MediaSource; delete window.ManagedMediaSource;")
            sign_in(old, server, session)
            old.goto(f"{server.http}/cameras/{camera.pk}/")
            wait_in_page(old, "(document.querySelector('[data-live-camera] img') || {}).naturalWidth === 320", 15000)
            assert old.evaluate("document.querySelector('[data-live-camera] video')") is None


def test_a_picture_saved_from_live_video_and_fullscreen_and_grid_layouts(asgi_server: LiveServer, world: World):
    camera, token = world.a.cameras[0], world.a.tokens[0]
    session = session_cookies({"viewer": world.a.viewer})["viewer"]
    units = solid_colour_access_units(320, 180, 15, 2, MAGENTA, keyframe_every=2)
    with chromium() as browser, h264_camera(asgi_server, token, units, 15):
        page = browser.new_page(accept_downloads=True)
        sign_in(page, asgi_server, session)
        page.goto(f"{asgi_server.http}/cameras/{camera.pk}/")
        wait_for_colour(page, MAGENTA, 15)
        with page.expect_download() as saving:
            page.get_by_role("button", name="Save a picture").click()
        saved = Path(saving.value.path()).read_bytes()
        assert saving.value.suggested_filename.startswith(camera.name)
        picture = cv2.imdecode(np.frombuffer(saved, np.uint8), cv2.IMREAD_COLOR)
        assert picture is not None, "a JPEG"
        assert picture.shape == (180, 320, 3)
        assert close_to(list(reversed(picture[90, 160].tolist())), MAGENTA)
        page.get_by_role("button", name="Fullscreen").click()
        wait_in_page(page, "document.fullscreenElement === document.querySelector('[data-live-camera]')", 3000)

        page.goto(f"{asgi_server.http}/cameras/")
        page.get_by_role("button", name="2", exact=True).click()
        columns = "getComputedStyle(document.querySelector('[data-live-grid]')).gridTemplateColumns.split(' ').length"
        assert page.evaluate(columns) == 2
        page.reload()  # the choice is kept
        wait_in_page(page, f"{columns} === 2", 3000)
    with account_scope(world.a.account.pk):
        kinds = list(AccessEvent.objects.filter(object_id=camera.pk).values_list("kind", flat=True))
    assert kinds.count(AccessKind.SNAPSHOT) == 1
