"""Web Push in headless Chromium: the page's button under the site's CSP, and the service
worker at /sw.js showing a pushed message.

Subscribing for real needs the browser vendor's push service (not reachable from the tests),
so the push message is handed to the service worker through DevTools
(``ServiceWorker.deliverPushMessage``), as a push service would deliver it decrypted.
"""

import base64
import io
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.urls import reverse

from conftest import World
from nvr.testing import LiveServer, chromium, daphne_server, session_cookies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def server(settings, tmp_path, django_db_blocker) -> Iterator[LiveServer]:
    """The site with a VAPID key pair of its own (made by the command, as bin/demo does)."""
    key_file = tmp_path / "vapid.pem"
    settings.NVR_VAPID_PRIVATE_KEY = ""
    settings.NVR_VAPID_KEY_FILE = key_file
    call_command("vapid_keys", stdout=io.StringIO(), stderr=io.StringIO())
    env = {"NVR_VAPID_KEY_FILE": str(key_file), "NVR_VAPID_PRIVATE_KEY": ""}
    with django_db_blocker.unblock(), daphne_server(env) as live:
        yield live


def test_the_page_offers_push_and_the_worker_shows_a_pushed_motion(server: LiveServer, world: World):
    cookie = session_cookies({"owner": world.a.owner})["owner"]
    with chromium() as browser:
        context = browser.new_context()
        context.grant_permissions(["notifications"], origin=server.http)
        host = server.http.split("//")[1].split(":")[0]
        context.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
        assert page.goto(f"{server.http}{reverse('notifications:settings')}").status == 200
        button = page.locator("[data-push-on]")
        assert button.is_visible()  # push.js ran (no inline script) and found the Push API
        assert button.get_attribute("data-worker") == "/sw.js"

        scope = page.evaluate("navigator.serviceWorker.register('/sw.js', {scope: '/'}).then((r) => r.scope)")
        assert scope == f"{server.http}/"
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        cdp = context.new_cdp_session(page)
        registrations: list[str] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(r["registrationId"] for r in event["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        for _ in range(50):  # the registration arrives as an event
            if registrations:
                break
            page.wait_for_timeout(100)
        assert registrations
        message = {"camera": "Porch", "time": "2026-12-02T15:20:08+00:00", "url": f"{server.http}/recordings/x/"}
        shown = (
            "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
            ".then((all) => all.map((n) => [n.title, n.data.url]))"
        )
        titles: Any = []
        # DevTools may hand the push to a worker still starting, which drops it (seen on a busy
        # CI machine): deliver again, up to three times; the notice's tag keeps one per camera.
        for _attempt in range(3):
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {"origin": server.http, "registrationId": registrations[-1], "data": json.dumps(message)},
            )
            for _ in range(50):
                titles = page.evaluate(shown)
                if titles:
                    break
                page.wait_for_timeout(100)
            if titles:
                break
        assert titles == [["Motion: Porch", message["url"]]]
        assert refused == []


def test_the_button_posts_this_browsers_subscription(server: LiveServer, world: World):
    """push.js end to end but for the push service: ``PushManager.subscribe`` answers with a
    subscription made here (the vendor's service is out of reach), and the page posts it."""
    from accounts.models import Role
    from accounts.tenancy import account_scope
    from notifications.models import PushSubscription
    from notifications.selectors import push_target_of

    browser_key = ec.generate_private_key(ec.SECP256R1())
    point = browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    keys = {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}
    endpoint = "http://127.0.0.1:9/push/this-browser"
    cookie = session_cookies({"owner": world.a.owner})["owner"]
    with chromium() as browser:
        context = browser.new_context()
        context.grant_permissions(["notifications"], origin=server.http)
        host = server.http.split("//")[1].split(":")[0]
        context.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
        page = context.new_page()
        page.goto(f"{server.http}{reverse('notifications:settings')}")
        fake = {"endpoint": endpoint, "keys": keys}
        page.evaluate(
            """(fake) => {
                PushManager.prototype.subscribe = async function () {
                    const keys = fake.keys;
                    return { endpoint: fake.endpoint, toJSON: () => ({ keys }), unsubscribe: async () => true };
                };
            }""",
            fake,
        )
        with page.expect_navigation():  # the page reloads once the server took it
            page.click("[data-push-on]")
        assert page.locator("li", has_text="Chrome on").count() == 1
    with account_scope(world.a.account.pk):
        (row,) = PushSubscription.objects.all()
        assert row.membership_id == world.a.memberships[Role.OWNER].pk
        target = push_target_of(row)
    assert (target.endpoint, target.p256dh, target.auth) == (endpoint, keys["p256dh"], keys["auth"])
