"""The isolation matrix for the support viewer: pages and sockets of staff under a grant.

Every route of ``SUPPORT_VIEWER_ROUTES`` and socket of ``SUPPORT_WEBSOCKETS`` is attacked,
every method, by:
- support staff holding household A's grant, naming B's objects under A's grant (404);
- support staff with no grant at all: B's grant ended, or expired (404);
- the household's own people (not staff) with B's active grant (404);
- staff whose session signed in with the password alone (never a 200).
The same route works for staff under B's own active grant (the checks are not vacuous),
and B's rows are unchanged by any of it.
"""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy import unscoped
from conftest import World, client_for, staff_client
from nvr.tests.test_isolation_matrix import (
    ATTACKS,
    METHODS,
    SUPPORT_VIEWER_ROUTES,
    SUPPORT_WEBSOCKETS,
    assert_private,
    request,
    route_path,
    snapshot,
    socket_opens,
    websocket_routes,
)
from support.models import SupportGrant
from support.tests.factories import grant_give


@pytest.fixture
def world(world_with_clips: World) -> World:
    """The matrix needs each household's clips and their files: something to leak."""
    return world_with_clips


SAFE = {"GET", "HEAD"}


def end_grant(grant_id: Any, *, expire: bool = False) -> None:
    with unscoped("test: end a grant"):
        grant = SupportGrant.objects.get(pk=grant_id)
        if expire:
            SupportGrant.objects.filter(pk=grant_id).update(
                created_at=timezone.now() - timedelta(hours=2), expires_at=timezone.now() - timedelta(seconds=1)
            )
        else:
            grant.ended_at = timezone.now()
            grant.save(update_fields=["ended_at"])


def a_grant_on_bs_objects(name: str, world: World) -> dict[str, Any] | None:
    """B's object ids under A's grant (None for a route that names the grant alone)."""
    kwargs = SUPPORT_VIEWER_ROUTES[name](world.b)
    if set(kwargs) == {"grant_id"}:
        return None
    return {**kwargs, "grant_id": grant_give(world.a).pk}


def attack(client: Client, path: str, where: str, allowed: tuple[int, ...] = (404, 405)) -> None:
    for method in METHODS:
        response = request(client, method, path)
        ATTACKS["http"] += 1
        label = f"{where}: {method} {path}"
        assert response.status_code in allowed, f"{label} answered {response.status_code}"
        if response.status_code == 405:
            assert method not in response["Allow"], f"{label}: 405 but Allow lists {method}"
        assert_private(response, label)


@pytest.mark.parametrize("name", sorted(n for n in SUPPORT_VIEWER_ROUTES if n != "support:grants"))
def test_the_support_viewer_reaches_only_what_an_active_grant_covers(name, world: World):
    staff = staff_client()
    theirs = SUPPORT_VIEWER_ROUTES[name](world.b)  # makes B's grant
    before = snapshot(world.b)
    crossed = a_grant_on_bs_objects(name, world)
    if crossed is not None:
        attack(staff, reverse(name, kwargs=crossed), "staff, A's grant on B's object")
    # B's own people are not staff: B's grant does not open it for them.
    for role in (Role.OWNER, Role.VIEWER):
        attack(client_for(world.b.people[role]), reverse(name, kwargs=theirs), f"B's {role}")
    # Staff signed in with a password only: never the page (a 404, or sent to the second factor).
    password_only = staff_client(second_factor=False)
    attack(password_only, reverse(name, kwargs=theirs), "password-only staff", allowed=(302, 404, 405))
    # It works under B's own grant: the checks above are not vacuous.
    own = staff.get(reverse(name, kwargs=theirs))
    assert own.status_code == 200, f"{name} under B's own grant answered {own.status_code}"
    # Ended, then expired: the same URL is a 404 at once.
    end_grant(theirs["grant_id"])
    attack(staff, reverse(name, kwargs=theirs), "staff, B's grant ended")
    theirs = {**theirs, "grant_id": grant_give(world.b).pk}
    assert staff.get(reverse(name, kwargs=theirs)).status_code == 200
    end_grant(theirs["grant_id"], expire=True)
    attack(staff, reverse(name, kwargs=theirs), "staff, B's grant expired")
    after = snapshot(world.b)
    # Only access events (the household's record of these views) and the grants ended here may differ.
    events, grants = 3, 10
    unchanged = [i for i in range(len(before)) if i not in (events, grants)]
    assert [after[i] for i in unchanged] == [before[i] for i in unchanged], f"{name}: B's rows changed"


def test_the_grant_list_is_for_staff_only(world: World):
    grant_give(world.b)
    path = reverse("support:grants")
    for role in (Role.OWNER, Role.MEMBER, Role.VIEWER):
        attack(client_for(world.a.people[role]), path, f"A's {role}")
    body = staff_client().get(path).content.decode()
    assert world.b.account.name in body
    assert world.a.account.name not in body


@pytest.mark.django_db(transaction=True)
def test_support_sockets_open_only_under_an_active_grant(asgi_server, world: World):
    """Refused at the handshake (403) unless staff hold an active grant covering the camera."""
    staff = staff_client()
    staff_cookie = [("Cookie", f"sessionid={staff.cookies['sessionid'].value}")]
    owner_b = client_for(world.b.owner)
    owner_cookie = [("Cookie", f"sessionid={owner_b.cookies['sessionid'].value}")]
    password_only = staff_client(second_factor=False)
    password_cookie = [("Cookie", f"sessionid={password_only.cookies['sessionid'].value}")]
    a_grant = grant_give(world.a).pk
    kwargs = {name: kwargs_of(world.b) for name, kwargs_of in SUPPORT_WEBSOCKETS.items()}

    async def opens(path: str, cookie: list[tuple[str, str]]) -> bool:
        return await socket_opens(f"{asgi_server.ws}/{path}", cookie, asgi_server.origin)

    async def run() -> None:
        for name, theirs in kwargs.items():
            route = next(r for r in websocket_routes() if r.name == name)
            crossed = {**theirs, "grant_id": a_grant}
            for label, path, cookie in (
                ("A's grant on B's camera", route_path(route, crossed), staff_cookie),
                ("B's owner (not staff) with B's grant", route_path(route, theirs), owner_cookie),
                ("password-only staff", route_path(route, theirs), password_cookie),
            ):
                ATTACKS["websocket"] += 1
                assert not await opens(path, cookie), f"{label} opened {path}"
            assert await opens(route_path(route, theirs), staff_cookie), "B's own grant did not open it"
            await asyncio.to_thread(end_grant, theirs["grant_id"])
            ATTACKS["websocket"] += 1
            assert not await opens(route_path(route, theirs), staff_cookie), "an ended grant opened it"

    asyncio.run(run())
