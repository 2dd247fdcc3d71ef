"""Per-camera access in a real browser (Debian's Chromium, driven by Playwright): the owner
limits bob to the garden on the members page; bob then sees only the garden in the live
grid and the recordings, and the porch's page, clip and socket are as if they did not exist."""

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import World
from devices.models import Camera
from devices.tests.conftest import add_camera
from devices.tests.test_browser import sign_in
from nvr.testing import LiveServer, chromium, session_cookies
from recordings.models import Recording
from recordings.tests.factories import make_recording

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def garden(world: World) -> tuple[Camera, Recording]:
    from accounts.tenancy import account_scope

    camera = add_camera(world.a, "Garden").camera
    with account_scope(world.a.account.pk):
        return camera, make_recording(camera)


@pytest.fixture
def sessions(world: World, garden: tuple[Camera, Recording]) -> dict[str, str]:
    return session_cookies({"owner": world.a.owner, "bob": world.a.member})


@pytest.fixture
def browser(asgi_server: LiveServer, sessions: dict[str, str]) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.mark.usefixtures("world_with_clips")
def test_a_limited_member_sees_only_the_cameras_the_owner_chose(
    browser: Any, asgi_server: LiveServer, world: World, sessions: dict[str, str], garden: tuple[Camera, Recording]
):
    camera, clip = garden
    porch, porch_clip = world.a.cameras[0], world.a.recordings[0]
    base = asgi_server.http

    owner = browser.new_page(viewport={"width": 1200, "height": 800})
    sign_in(owner, asgi_server, sessions["owner"])
    owner.goto(f"{base}/members/")
    owner.click(f'tr[data-member="{world.a.memberships["member"].pk}"] a[data-camera-access]')
    owner.check("input[name=limited]")
    owner.check(f'input[name=cameras][value="{camera.pk}"]')
    owner.click("section[aria-labelledby=access-heading] button[type=submit]")
    owner.wait_for_url(f"{base}/members/")
    assert "some cameras" in owner.inner_text(f'tr[data-member="{world.a.memberships["member"].pk}"]')

    bob = browser.new_page(viewport={"width": 1200, "height": 800})
    sign_in(bob, asgi_server, sessions["bob"])
    bob.goto(f"{base}/cameras/")
    tiles = bob.eval_on_selector_all("[data-camera]", "tiles => tiles.map(t => t.dataset.camera)")
    assert tiles == [str(camera.pk)]
    assert porch.name not in bob.content()

    bob.goto(f"{base}/recordings/")
    options = bob.eval_on_selector_all("select[name=camera] option", "os => os.map(o => o.value)")
    assert options == [str(camera.pk), "all"]  # "All cameras": theirs (recordings' all-cameras day)
    assert bob.locator(f'[data-testid=timeline-bar] [data-recording="{clip.pk}"]').count() == 1
    assert str(porch_clip.pk) not in bob.content()

    for path in (f"/cameras/{porch.pk}/", f"/recordings/{porch_clip.pk}/", f"/recordings/?camera={porch.pk}"):
        response = bob.goto(f"{base}{path}")
        assert response.status == 404, path
    bob.goto(f"{base}/cameras/{camera.pk}/")
    opened = bob.evaluate(
        """ids => Promise.all(ids.map(id => new Promise(resolve => {
            const socket = new WebSocket(`ws://${location.host}/ws/live/${id}/`);
            socket.onopen = () => { socket.close(); resolve(true); };
            socket.onclose = () => resolve(false);
        })))""",
        [str(porch.pk), str(camera.pk)],
    )
    assert opened == [False, True]
    # The owner still sees both cameras.
    owner.goto(f"{base}/cameras/")
    assert len(owner.eval_on_selector_all("[data-camera]", "tiles => tiles")) == 2
