"""Access that ends closes the open sockets within a second: real daphne, real sockets.

Each action is done through the live server, as a browser would, so that the
closing message travels the way it does in production.
"""

import asyncio
import time
from collections.abc import Callable, Iterator
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts.confirm import CONFIRMED
from accounts.models import Role
from conftest import PASSWORD, World
from devices.consumers import CLOSE_REVOKED
from devices.tests.conftest import add_camera, client_for, open_device, open_viewer, session_cookie, wait_closed
from nvr.testing import LiveHttpClient, LiveServer, daphne_server

pytestmark = pytest.mark.django_db(transaction=True)
WITHIN = 1.0


@pytest.fixture
def events_only(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """A daphne whose periodic re-check is an hour away: a socket it closes within a
    second was closed by the revocation event itself, not by the safety net."""
    with django_db_blocker.unblock(), daphne_server(extra_env={"LIVE_RECHECK_SECONDS": "3600"}) as server:
        yield server


def browser(server: LiveServer, user: Any) -> LiveHttpClient:
    return LiveHttpClient(server, {"sessionid": client_for(user).cookies["sessionid"].value})


def closes_within(server: LiveServer, viewer_cookie: str, camera: Any, action: Callable[[], int]) -> tuple[int, float]:
    """Open a live view, run ``action`` (an HTTP request), and time the socket's closing."""

    async def scenario() -> tuple[int, float]:
        socket = await open_viewer(server, camera.pk, viewer_cookie)
        status = await asyncio.to_thread(action)
        assert status == 302, f"the action failed: HTTP {status}"
        started = time.monotonic()
        code = await wait_closed(socket, WITHIN + 1)
        elapsed = time.monotonic() - started
        assert code is not None, "the socket stayed open"
        return code, elapsed

    return asyncio.run(scenario())


def test_removing_a_member_closes_their_live_view(events_only, world: World):
    asgi_server = events_only
    viewer = world.a.memberships[Role.VIEWER]
    owner = browser(asgi_server, world.a.owner)
    code, elapsed = closes_within(
        asgi_server,
        session_cookie(client_for(world.a.viewer)),
        world.a.cameras[0],
        lambda: owner.post(f"/members/{viewer.pk}/remove/", CONFIRMED),
    )
    assert (code, elapsed < WITHIN) == (CLOSE_REVOKED, True), elapsed


def test_signing_out_closes_that_sessions_live_view(events_only, world: World):
    asgi_server = events_only
    me = browser(asgi_server, world.a.viewer)
    cookie = f"sessionid={me.cookies['sessionid']}"
    code, elapsed = closes_within(asgi_server, cookie, world.a.cameras[0], lambda: me.post("/account/logout/"))
    assert (code, elapsed < WITHIN) == (CLOSE_REVOKED, True), elapsed


def test_changing_the_password_closes_every_live_view_of_the_user(events_only, world: World):
    asgi_server = events_only
    # The daphne process checks passwords with the production hashers, not the tests' fast one.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        world.a.viewer.set_password(PASSWORD)
        world.a.viewer.save()
    me = browser(asgi_server, world.a.viewer)
    other_session = session_cookie(client_for(world.a.viewer))
    form = {"oldpassword": PASSWORD, "password1": "a brand new passphrase 7", "password2": "a brand new passphrase 7"}
    code, elapsed = closes_within(
        asgi_server, other_session, world.a.cameras[0], lambda: me.post("/account/password/change/", form)
    )
    assert (code, elapsed < WITHIN) == (CLOSE_REVOKED, True), elapsed


def test_signing_out_everywhere_else_closes_the_other_sessions_live_view(events_only, world: World):
    asgi_server = events_only
    me = browser(asgi_server, world.a.viewer)
    elsewhere = browser(asgi_server, world.a.viewer)
    assert elsewhere.request("GET", "/") == 200  # a browser loads a page before it opens a live view
    cookie = f"sessionid={elsewhere.cookies['sessionid']}"
    code, elapsed = closes_within(
        asgi_server, cookie, world.a.cameras[0], lambda: me.post("/account/sessions/others/end/")
    )
    assert (code, elapsed < WITHIN) == (CLOSE_REVOKED, True), elapsed
    assert elsewhere.request("GET", "/") == 302  # and that browser is signed out


def test_disabling_a_camera_closes_its_viewers_and_the_camera(events_only, world: World):
    asgi_server = events_only
    camera = world.a.cameras[0]
    owner = browser(asgi_server, world.a.owner)
    cookie = session_cookie(client_for(world.a.member))

    async def scenario() -> tuple[int | None, int | None, float, dict[str, Any]]:
        viewer = await open_viewer(asgi_server, camera.pk, cookie)
        device = await open_device(asgi_server, world.a.tokens[0])
        status = await asyncio.to_thread(owner.post, f"/cameras/{camera.pk}/edit/", {"name": camera.name})
        assert status == 302
        started = time.monotonic()
        said = await asyncio.wait_for(viewer.status(), WITHIN + 1)
        while said["state"] != "ended":  # the camera's own online/offline come first
            said = await asyncio.wait_for(viewer.status(), WITHIN + 1)
        viewer_code = await wait_closed(viewer, WITHIN + 1)
        device_code = await wait_closed(device, WITHIN + 1)
        return viewer_code, device_code, time.monotonic() - started, said

    viewer_code, device_code, elapsed, said = asyncio.run(scenario())
    assert (viewer_code, device_code) == (CLOSE_REVOKED, CLOSE_REVOKED)
    assert elapsed < WITHIN
    # Said in a message before the close: a tile shows "disabled", not a frozen picture.
    assert said == {"type": "status", "state": "ended", "message": "camera disabled"}


def test_deleting_a_camera_closes_its_viewers(events_only, world: World):
    asgi_server = events_only
    camera = world.a.cameras[0]
    owner = browser(asgi_server, world.a.owner)
    code, elapsed = closes_within(
        asgi_server,
        session_cookie(client_for(world.a.viewer)),
        camera,
        lambda: owner.post(f"/cameras/{camera.pk}/delete/", CONFIRMED),
    )
    assert (code, elapsed < WITHIN) == (CLOSE_REVOKED, True), elapsed


def test_revoking_the_token_closes_the_camera_socket_but_not_the_viewers(events_only, world: World):
    asgi_server = events_only
    camera = world.a.cameras[0]
    owner = browser(asgi_server, world.a.owner)
    cookie = session_cookie(client_for(world.a.viewer))

    async def scenario() -> tuple[int | None, int | None, float]:
        viewer = await open_viewer(asgi_server, camera.pk, cookie)
        device = await open_device(asgi_server, world.a.tokens[0])
        status = await asyncio.to_thread(owner.post, f"/cameras/{camera.pk}/token/revoke/", CONFIRMED)
        assert status == 302
        started = time.monotonic()
        device_code = await wait_closed(device, WITHIN + 1)
        elapsed = time.monotonic() - started
        viewer_code = await wait_closed(viewer, 0.3)
        await viewer.close()
        return device_code, viewer_code, elapsed

    device_code, viewer_code, elapsed = asyncio.run(scenario())
    assert device_code == CLOSE_REVOKED
    assert viewer_code is None  # viewers keep watching; the camera is simply gone
    assert elapsed < WITHIN


def test_taking_a_camera_away_closes_that_persons_view_of_it_only(events_only, world: World):
    """The owner limits vera to the garden while she watches the porch and the garden:
    the porch's view closes within a second, the garden's stays open."""
    asgi_server = events_only
    porch, garden = world.a.cameras[0], add_camera(world.a, "Garden").camera
    vera = world.a.memberships[Role.VIEWER]
    owner = browser(asgi_server, world.a.owner)
    cookie = session_cookie(client_for(world.a.viewer))

    async def scenario() -> tuple[int | None, int | None, float]:
        porch_view = await open_viewer(asgi_server, porch.pk, cookie)
        garden_view = await open_viewer(asgi_server, garden.pk, cookie)
        form = {"limited": "on", "cameras": str(garden.pk)}
        status = await asyncio.to_thread(owner.post, f"/cameras/access/{vera.pk}/", form)
        assert status == 302
        started = time.monotonic()
        porch_code = await wait_closed(porch_view, WITHIN + 1)
        elapsed = time.monotonic() - started
        garden_code = await wait_closed(garden_view, 0.3)
        await garden_view.close()
        return porch_code, garden_code, elapsed

    porch_code, garden_code, elapsed = asyncio.run(scenario())
    assert (porch_code, garden_code) == (CLOSE_REVOKED, None)
    assert elapsed < WITHIN


def test_limiting_someone_to_no_camera_through_the_api_closes_their_view(events_only, world: World):
    asgi_server = events_only
    bob = world.a.memberships[Role.MEMBER]
    owner = browser(asgi_server, world.a.owner)

    def limit() -> int:
        status = owner.request_json("PUT", f"/api/v1/camera-access/{bob.pk}/", {"limited": True, "cameras": []})
        return 302 if status == 200 else status  # closes_within expects the portal's redirect

    code, elapsed = closes_within(asgi_server, session_cookie(client_for(world.a.member)), world.a.cameras[0], limit)
    assert (code, elapsed < WITHIN) == (CLOSE_REVOKED, True), elapsed


@pytest.fixture
def quick_recheck(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """A daphne re-checking every second: the safety-net tests wait 5 s, five re-checks' worth."""
    with django_db_blocker.unblock(), daphne_server(extra_env={"LIVE_RECHECK_SECONDS": "1"}) as server:
        yield server


SAFETY_NET_WAIT = 5


def test_the_safety_net_closes_a_view_of_a_camera_taken_away_without_an_event(quick_recheck, world: World):
    """The limit written behind the site's back (no closing message): the re-check closes the view."""
    from accounts.tenancy import account_scope

    vera = world.a.memberships[Role.VIEWER]

    def limit_silently() -> None:
        with account_scope(world.a.account.pk):
            type(vera).objects.filter(pk=vera.pk).update(camera_access_limited=True)

    cookie = session_cookie(client_for(world.a.viewer))

    async def scenario() -> int | None:
        socket = await open_viewer(quick_recheck, world.a.cameras[0].pk, cookie)
        await asyncio.to_thread(limit_silently)
        return await wait_closed(socket, SAFETY_NET_WAIT)

    assert asyncio.run(scenario()) == CLOSE_REVOKED


def test_the_safety_net_closes_a_view_whose_access_ended_without_an_event(quick_recheck, world: World):
    """A membership deleted behind the site's back (no event): the periodic re-check closes the socket."""
    from accounts.tenancy import account_scope

    viewer = world.a.memberships[Role.VIEWER]

    def delete_silently() -> int:
        with account_scope(world.a.account.pk):
            type(viewer).objects.filter(pk=viewer.pk).delete()
        return 200

    cookie = session_cookie(client_for(world.a.viewer))

    async def scenario() -> int | None:
        socket = await open_viewer(quick_recheck, world.a.cameras[0].pk, cookie)
        await asyncio.to_thread(delete_silently)
        return await wait_closed(socket, SAFETY_NET_WAIT)

    assert asyncio.run(scenario()) == CLOSE_REVOKED


@pytest.mark.parametrize("how", ["session deleted", "user deactivated"])
def test_the_safety_net_closes_a_view_whose_session_or_user_ended(quick_recheck, world: World, how: str):
    """Session expiry, or support deactivating someone, sends no event: the re-check closes the view."""
    client = client_for(world.a.viewer)
    session_key = client.cookies["sessionid"].value
    cookie = f"sessionid={session_key}"

    def end_it() -> None:
        if how == "session deleted":
            # Through the session engine, as every way a session ends does (from the cache too).
            import_module(settings.SESSION_ENGINE).SessionStore().delete(session_key)
        else:
            type(world.a.viewer).objects.filter(pk=world.a.viewer.pk).update(is_active=False)

    async def scenario() -> int | None:
        socket = await open_viewer(quick_recheck, world.a.cameras[0].pk, cookie)
        await asyncio.to_thread(end_it)
        return await wait_closed(socket, SAFETY_NET_WAIT)

    assert asyncio.run(scenario()) == CLOSE_REVOKED


def test_the_safety_net_closes_a_camera_whose_token_was_revoked_without_an_event(quick_recheck, world: World):
    from accounts.tenancy import account_scope
    from devices.models import DeviceToken

    def revoke_silently() -> None:
        with account_scope(world.a.account.pk):
            DeviceToken.objects.filter(camera=world.a.cameras[0]).update(revoked_at=timezone.now())

    async def scenario() -> int | None:
        camera = await open_device(quick_recheck, world.a.tokens[0])
        await asyncio.to_thread(revoke_silently)
        return await wait_closed(camera, SAFETY_NET_WAIT)

    assert asyncio.run(scenario()) == CLOSE_REVOKED


def test_the_safety_net_closes_a_view_after_a_password_change_elsewhere(quick_recheck, world: World):
    """A password changed without the event (say, by support in the admin): the session's
    hash no longer matches, so the view closes at the next re-check."""
    cookie = session_cookie(client_for(world.a.viewer))

    def change_silently() -> None:
        world.a.viewer.set_password("changed without the event 9")
        world.a.viewer.save()

    async def scenario() -> int | None:
        socket = await open_viewer(quick_recheck, world.a.cameras[0].pk, cookie)
        await asyncio.to_thread(change_silently)
        return await wait_closed(socket, SAFETY_NET_WAIT)

    assert asyncio.run(scenario()) == CLOSE_REVOKED
