"""The support viewer in Chromium: staff watch a camera under a grant, the household sees
them watching, and ending the grant stops the picture (live.js on the grant's socket)."""

from typing import Any

import pytest

from conftest import World, staff_client
from devices.tests.test_browser import camera_pushing, sign_in
from nvr.testing import LiveHttpClient, LiveServer, chromium, session_cookies, wait_in_page
from support.tests.factories import grant_give

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_watch_under_a_grant_until_the_owner_ends_it(asgi_server: LiveServer, world: World):
    from playwright.sync_api import expect

    camera, token = world.a.cameras[0], world.a.tokens[0]
    grant = grant_give(world.a)
    staff = staff_client()
    staff_session = staff.cookies["sessionid"].value
    owner_session = session_cookies({"owner": world.a.owner})["owner"]
    owner = LiveHttpClient(asgi_server, {"sessionid": owner_session})
    with chromium() as browser, camera_pushing(asgi_server, token, (320, 240)):
        page: Any = browser.new_page()
        sign_in(page, asgi_server, staff_session)
        assert page.goto(f"{asgi_server.http}/support-viewer/{grant.pk}/").status == 200
        page.get_by_role("link", name="Watch live").click()
        wait_in_page(page, "(document.querySelector('[data-live-camera] img') || {}).naturalWidth === 320", 15000)
        household = browser.new_page()
        sign_in(household, asgi_server, owner_session)
        household.goto(f"{asgi_server.http}/cameras/{camera.pk}/")
        expect(household.locator("[data-field=watchers]")).to_contain_text("Support: Sam support", timeout=10000)
        assert owner.post(f"/household/support/{grant.pk}/end/", {"household": str(world.a.account.pk)}) == 302
        expect(page.locator("[data-live-state]")).to_contain_text("access ended", timeout=5000)
        assert page.goto(f"{asgi_server.http}/support-viewer/{grant.pk}/").status == 404
