"""The clip player in a real browser: Debian's Chromium plays and seeks a clip served by daphne.

The video comes through the real ASGI path (daphne, Range requests, on-the-fly
decryption). CI installs Chromium (.ci/run) and must run these; elsewhere they
skip when Chromium is not installed.
"""

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import AccessEvent, AccessKind
from accounts.tenancy import account_scope
from conftest import World
from devices.tests.conftest import add_camera
from nvr.testing import LiveServer, wait_in_page
from recordings.models import MotionEvent
from recordings.tests.factories import make_recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
T = TypeVar("T")


@pytest.fixture
def session(world: World) -> str:
    """A's viewer's session cookie, made before the browser starts (see devices/tests/test_browser.py)."""
    client = Client()
    client.force_login(world.a.viewer)
    return client.cookies["sessionid"].value


@pytest.fixture
def page(asgi_server: LiveServer, session: str) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 800})
            host = asgi_server.http.split("//")[1].split(":")[0]
            tab.context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/"}])
            yield tab
        finally:
            browser.close()


def in_thread(account_id: uuid.UUID, query: Callable[[], T]) -> T:
    """Run a query in the household's scope outside Playwright's event loop (Django refuses async contexts)."""

    def run() -> T:
        try:
            with account_scope(account_id):
                return query()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def test_the_player_plays_and_seeks_a_clip(page: Any, asgi_server: LiveServer, world: World):
    recording = world.a.recordings[0]
    video_requests: list[dict[str, Any]] = []
    page.on(
        "response",
        lambda r: video_requests.append({"status": r.status, "range": r.request.headers.get("range")})
        if r.url.endswith("/video.mp4")
        else None,
    )
    response = page.goto(f"{asgi_server.http}/recordings/{recording.pk}/")
    assert response.status == 200
    wait_in_page(page, "document.querySelector('video.player').readyState >= 1", 10000)
    played = page.evaluate(
        """async () => {
            const video = document.querySelector('video.player');
            video.muted = true;
            await video.play();
            await new Promise((resolve) => setTimeout(resolve, 600));
            return {readyState: video.readyState, time: video.currentTime, error: video.error && video.error.code,
                    width: video.videoWidth, height: video.videoHeight};
        }"""
    )
    assert played["error"] is None
    assert played["readyState"] >= 2
    assert played["time"] > 0
    assert (played["width"], played["height"]) == (320, 180)  # H.264 decoded
    seeked = page.evaluate(
        """() => new Promise((resolve) => {
            const video = document.querySelector('video.player');
            video.pause();
            const timer = setTimeout(() => resolve({seeked: false}), 5000);
            video.addEventListener('error', () => { clearTimeout(timer); resolve({seeked: false, error: true}); });
            video.addEventListener('seeked', () => {
                clearTimeout(timer);
                resolve({seeked: true, time: video.currentTime, readyState: video.readyState});
            }, {once: true});
            video.currentTime = 1.5;
        })"""
    )
    assert seeked["seeked"] is True, seeked
    assert abs(seeked["time"] - 1.5) < 0.2
    assert seeked["readyState"] >= 2
    # The motion event's button seeks too (player.js).
    page.click("[data-seek]")
    wait_in_page(page, "Math.abs(document.querySelector('video.player').currentTime - 0.5) < 0.3", 5000)
    assert all(r["status"] in (200, 206) for r in video_requests), video_requests
    plays = in_thread(
        world.a.account.pk,
        lambda: AccessEvent.objects.filter(kind=AccessKind.CLIP_PLAY, object_id=recording.pk).count(),
    )
    assert plays == 1, f"{len(video_requests)} video requests wrote {plays} play events"


def test_another_households_clip_is_a_404_in_the_browser(page: Any, asgi_server: LiveServer, world: World):
    theirs = world.b.recordings[0]
    assert page.goto(f"{asgi_server.http}/recordings/{theirs.pk}/").status == 404
    assert page.goto(f"{asgi_server.http}/recordings/{theirs.pk}/video.mp4").status == 404


def test_a_clip_with_a_damaged_stretch_plays_past_it(page: Any, asgi_server: LiveServer, world: World, tmp_path):
    """Kept READY with a warning (issue 12): Chromium must still play and seek past the damage."""
    from recordings.models import Recording, RecordingStatus
    from recordings.tasks import process_recording
    from recordings.tests.factories import make_recording
    from tools.synth import make_clip, make_damaged_copy

    clean, damaged = tmp_path / "clean.mp4", tmp_path / "damaged.mp4"
    make_clip(clean, seconds=6, fps=15, width=320, height=180, faststart=False)
    make_damaged_copy(clean, damaged, start=0.4, end=0.55)

    def stored() -> Any:
        return make_recording(world.a.cameras[0], status=RecordingStatus.UPLOADED, clip=damaged.read_bytes())

    recording = in_thread(world.a.account.pk, stored)

    def process() -> Any:
        try:
            return process_recording.apply(args=(str(world.a.account.pk), str(recording.pk))).get()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:  # Django refuses Playwright's event loop
        assert pool.submit(process).result() == "ready"
    warning = in_thread(world.a.account.pk, lambda: Recording.objects.get(pk=recording.pk).warning)
    assert "could not be decoded" in warning
    assert page.goto(f"{asgi_server.http}/recordings/{recording.pk}/").status == 200
    wait_in_page(page, "document.querySelector('video.player').readyState >= 1", 10000)
    result = page.evaluate(
        """async () => {
            const video = document.querySelector('video.player');
            video.muted = true;
            video.currentTime = 5.0;
            await new Promise((resolve) => video.addEventListener('seeked', resolve, {once: true}));
            await video.play();
            await new Promise((resolve) => setTimeout(resolve, 500));
            return {time: video.currentTime, error: video.error && video.error.code, readyState: video.readyState};
        }"""
    )
    assert result["error"] is None, result
    assert result["readyState"] >= 2, result
    assert result["time"] > 5.0, result  # playing after the damaged stretch


def test_an_event_opens_the_player_at_its_moment(page: Any, asgi_server: LiveServer, world: World):
    """The events page's link (``?t=``) starts the player at the event (player.js), not at 0."""
    recording = world.a.recordings[0]

    def add_late_event() -> None:
        at = recording.started_at + timedelta(seconds=1.3)
        MotionEvent.objects.create(
            account_id=recording.account_id, recording=recording, started_at=at, ended_at=at, score=0.9
        )

    in_thread(world.a.account.pk, add_late_event)  # the newest event: first on the page
    assert page.goto(f"{asgi_server.http}/recordings/events/").status == 200
    page.click("[data-testid=events] li:first-child a")
    page.wait_for_url(f"**/recordings/{recording.pk}/?t=1.3")
    wait_in_page(page, "document.querySelector('video.player').readyState >= 1", 10000)
    wait_in_page(page, "Math.abs(document.querySelector('video.player').currentTime - 1.3) < 0.15", 5000)
    assert page.evaluate("document.querySelector('video.player').error") is None


def test_a_share_link_plays_its_clip_and_is_recorded_once(page: Any, asgi_server: LiveServer, world: World):
    """The shared page's player plays in Chromium through the link's own video route; the page
    view is one access event, and the player's Range requests add none."""
    from recordings.tests.factories import make_share_link

    recording = world.a.recordings[0]
    _link, secret = in_thread(world.a.account.pk, lambda: make_share_link(world.a, recording=recording))
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("/video.mp4") else None)
    response = page.goto(f"{asgi_server.http}/s/{secret}/")
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    wait_in_page(page, "document.querySelector('video.player').readyState >= 1", 10000)
    played = page.evaluate(
        """async () => {
            const video = document.querySelector('video.player');
            video.muted = true;
            await video.play();
            await new Promise((resolve) => setTimeout(resolve, 600));
            return {time: video.currentTime, error: video.error && video.error.code, width: video.videoWidth};
        }"""
    )
    assert played["error"] is None, played
    assert played["time"] > 0, played
    assert played["width"] == 320
    assert statuses, "the player fetched no video"
    assert all(status in (200, 206) for status in statuses), statuses
    kinds = in_thread(
        world.a.account.pk,
        lambda: list(AccessEvent.objects.filter(object_id=recording.pk).values_list("kind", flat=True)),
    )
    assert kinds.count(AccessKind.SHARE_VIEW) == 1, kinds
    assert AccessKind.CLIP_PLAY not in kinds, kinds


def test_play_through_goes_on_with_the_next_clip(page: Any, asgi_server: LiveServer, world: World):
    """With "Play through" ticked, the end of a clip opens the next one, which starts playing."""
    latest = world.a.recordings[0]
    earlier = in_thread(
        world.a.account.pk,
        lambda: make_recording(world.a.cameras[0], started_at=latest.started_at - timedelta(seconds=30)),
    )
    assert page.goto(f"{asgi_server.http}/recordings/{earlier.pk}/").status == 200
    page.check("[data-play-through]")
    wait_in_page(page, "document.querySelector('video.player').readyState >= 1", 10000)
    page.evaluate(
        """() => {
            const video = document.querySelector('video.player');
            video.muted = true;
            video.currentTime = Math.max(0, video.duration - 0.3);
            return video.play();
        }"""
    )
    page.wait_for_url(f"**/recordings/{latest.pk}/?play=1", timeout=10000)
    wait_in_page(page, "document.querySelector('video.player').currentTime > 0.2", 10000)
    assert page.is_checked("[data-play-through]")  # kept for the next clip


def timeline_json(page: Any) -> Any:
    return page.evaluate("JSON.parse(document.getElementById('timeline-data').textContent)")


def test_the_timeline_zooms_reads_the_cursor_and_opens_a_clip_at_the_moment(
    page: Any, asgi_server: LiveServer, world: World
):
    """timeline.js: the 10-minute zoom shows 600 s; the readout follows the cursor (hash, arrow
    key) in the person's zone; a moment outside the clips says so; a click inside a clip opens
    it there, playing (the player's currentTime about the offset)."""
    recording = world.a.recordings[0]
    camera = world.a.cameras[0]
    day = timezone.localdate(recording.started_at).isoformat()
    base = f"{asgi_server.http}/recordings/?camera={camera.pk}&day={day}"
    assert page.goto(base).status == 200
    bar = "svg[data-testid=timeline-bar]"
    page.wait_for_selector("[data-timeline-controls]:not([hidden])")
    assert page.get_attribute(bar, "viewBox").split()[2] in ("82800", "86400", "90000")
    page.click("button[data-zoom='3']")  # 10 min
    assert page.get_attribute(bar, "viewBox").split()[2] == "600"
    assert page.get_attribute("button[data-zoom='3']", "aria-pressed") == "true"

    data = timeline_json(page)
    [segment] = [s for s in data["cameras"][0]["segments"] if s["id"] == str(recording.pk)]
    zone = ZoneInfo(data["zone"])

    def clock(seconds: float) -> str:
        return f"{datetime.fromtimestamp(data['start'] + seconds, zone):%H:%M:%S}"

    at = segment["start"] + 1.0
    page.goto(f"{base}#z=600&t={at}")  # the cursor and zoom kept in the address (back from a clip)
    page.wait_for_selector("[data-timeline-controls]:not([hidden])")
    assert page.text_content("[data-testid=timeline-time]") == clock(at)
    page.focus(bar)
    page.keyboard.press("ArrowRight")  # a hundredth of the span: 6 s
    assert page.text_content("[data-testid=timeline-time]") == clock(at + 6)
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    assert page.text_content("[data-testid=timeline-message]").startswith(f"Nothing recorded at {clock(0)}.")
    assert page.is_visible("[data-testid=timeline-next]")

    page.goto(f"{base}#z=600&t={at}")
    page.wait_for_selector("[data-timeline-controls]:not([hidden])")
    view = float(page.get_attribute(bar, "viewBox").split()[0])
    box = page.locator(bar).bounding_box()
    page.mouse.click(box["x"] + (at - view) / 600 * box["width"], box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(rf"/recordings/{recording.pk}/\?t=(0\.[5-9]|1\.[0-4])&play=1$"))
    wait_in_page(page, "document.querySelector('video.player').readyState >= 1", 10000)
    wait_in_page(page, "document.querySelector('video.player').currentTime >= 0.5", 10000)
    assert page.evaluate("document.querySelector('video.player').error") is None


def test_the_all_cameras_timeline_has_a_bar_per_camera_and_fits_a_phone(
    page: Any, asgi_server: LiveServer, world: World
):
    garden = in_thread(world.a.account.pk, lambda: add_camera(world.a, "Garden").camera)
    clip = in_thread(world.a.account.pk, lambda: make_recording(garden))
    day = timezone.localdate(clip.started_at).isoformat()
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.goto(f"{asgi_server.http}/recordings/?all=1&day={day}").status == 200
    page.wait_for_selector("[data-timeline-controls]:not([hidden])")
    cameras = page.eval_on_selector_all("svg[data-testid=timeline-bar]", "bars => bars.map(b => b.dataset.camera)")
    assert sorted(cameras) == sorted([str(world.a.cameras[0].pk), str(garden.pk)])
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("button[data-zoom='2']")  # 1 h: every bar follows
    spans = page.eval_on_selector_all("svg[data-testid=timeline-bar]", "bars => bars.map(b => b.viewBox.baseVal.width)")
    assert spans == [3600, 3600]
    data = timeline_json(page)
    [segment] = [s for c in data["cameras"] if c["id"] == str(garden.pk) for s in c["segments"]]
    page.goto(f"{asgi_server.http}/recordings/?all=1&day={day}#z=600&t={segment['start'] + 1.0}")
    page.wait_for_selector("[data-timeline-controls]:not([hidden])")
    page.focus(f"svg[data-camera='{garden.pk}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/recordings/{clip.pk}/?t=1.0&play=1")
