"""The isolation matrix, inside one household: a member and a viewer of A whom the owner
limited to A's garden camera attack A's first camera ("porch") and its clips.

Which object routes are bound to a camera is derived, not listed: a route whose
object (as ``OBJECT_ROUTES`` names it for a household) is one of the household's
cameras or recordings. Every other object route must be declared in
``NOT_CAMERA_BOUND``, so a new route is classified the day it is added.

Rules, like the matrix's: every method on the porch's object routes answers 404
(or 405 without the method in ``Allow``) and A's rows and files are unchanged; the
same route on the garden's object works; lists contain none of the porch's ids or
its name; the live-view socket for the porch is refused before accept.
"""

import asyncio
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from accounts.tenancy import account_scope
from conftest import Household, World, client_for
from devices.tests.conftest import Limited, limit_member_and_viewer
from nvr.tests.test_isolation_matrix import (
    ATTACKS,
    LIST_ROUTES,
    METHODS,
    OBJECT_ROUTES,
    WEBSOCKET_ROUTES,
    assert_private,
    request,
    route_path,
    snapshot,
    socket_opens,
    websocket_routes,
)
from recordings.models import ShareLink


@pytest.fixture
def world(world_with_clips: World) -> World:
    """The matrix needs each household's clips and their files: something to leak."""
    return world_with_clips


LIMITED_ROLES = [Role.MEMBER, Role.VIEWER]
# Object routes whose object is not a camera or a clip (people, invitations, households).
NOT_CAMERA_BOUND = {
    "accounts:household-switch",
    "accounts:member-edit",
    "accounts:member-remove",
    "accounts:invitation-revoke",
    "accounts:invitation-accept",
    "accounts:invitation-decline",
    "api:member-detail",
    "api:invitation-detail",
    "devices:camera-access",
    "devices-api:camera-access",
    "support-grants:end",
    "notifications:push-remove",  # a person's browser
}


def camera_objects(household: Household) -> set[str]:
    """The household's cameras, their clips, and those clips' share links."""
    clips = {str(r.pk) for r in household.recordings}
    with account_scope(household.account.pk):
        links = {str(pk) for pk in ShareLink.objects.filter(recording__in=clips).values_list("pk", flat=True)}
    return {str(c.pk) for c in household.cameras} | clips | links


def camera_bound(world: World) -> list[str]:
    return sorted(
        name
        for name, route in OBJECT_ROUTES.items()
        if {str(value) for value in route.kwargs(world.a).values()} & camera_objects(world.a)
    )


def on_garden(household: Household, limited: Limited) -> Household:
    """The household as the routes see it, with the garden in the porch's place."""
    return Household(
        household.account,
        household.owner,
        household.member,
        household.viewer,
        memberships=household.memberships,
        cameras=[limited.garden],
        clips=[limited.garden_clip],
    )


def test_every_object_route_is_classified(world: World):
    bound = set(camera_bound(world))
    assert bound, "no camera-bound routes found: the derivation is broken"
    assert bound.isdisjoint(NOT_CAMERA_BOUND), f"declared not camera-bound, but are: {bound & NOT_CAMERA_BOUND}"
    unclassified = set(OBJECT_ROUTES) - bound - NOT_CAMERA_BOUND
    assert unclassified == set(), f"object routes neither camera-bound nor declared otherwise: {sorted(unclassified)}"


@pytest.fixture
def limited(world: World) -> Limited:
    return limit_member_and_viewer(world.a)


@pytest.mark.usefixtures("limited")
def test_a_limited_person_cannot_reach_another_camera_of_their_household(world: World):
    routes = camera_bound(world)  # first: naming some objects makes them
    before = snapshot(world.a)
    for name in routes:
        path = reverse(name, kwargs=OBJECT_ROUTES[name].kwargs(world.a))
        for role in LIMITED_ROLES:
            client = client_for(world.a.people[role])
            for method in METHODS:
                response = request(client, method, path, household=world.a)
                where = f"limited {role} of A: {method} {path} ({name})"
                ATTACKS["limited_http"] += 1
                assert response.status_code in (404, 405), f"{where} answered {response.status_code}"
                if response.status_code == 405:
                    assert method not in response["Allow"], f"{where}: 405 but Allow lists {method}"
                assert_private(response, where)
    assert snapshot(world.a) == before, "A's rows or files changed"


@pytest.mark.parametrize("role", LIMITED_ROLES)
def test_the_same_routes_work_on_the_camera_they_may_see(world: World, limited: Limited, role):
    """Guards the check above against passing because the routes always 404 for them."""
    garden = on_garden(world.a, limited)
    client = client_for(world.a.people[role])
    answered = {}
    for name in camera_bound(world):
        answered[name] = client.get(reverse(name, kwargs=OBJECT_ROUTES[name].kwargs(garden))).status_code
        # 403: a route their role may not use (a viewer deleting a camera), never the 404 of a hidden one.
        assert answered[name] in (200, 403, 405), f"limited {role}: {name} on the garden answered {answered[name]}"
    readable = {"devices:camera", "devices-api:camera-detail", "recordings:clip", "recordings:clip-video"}
    assert {name for name, status in answered.items() if status == 200} >= readable


def test_lists_contain_nothing_of_the_cameras_kept_from_them(world: World, limited: Limited):
    # The porch's ids, its clips' ids and its name; not its token (no list ever shows one).
    secrets = camera_objects(world.a) | {limited.porch.name}
    seen_garden = 0
    for name in sorted(LIST_ROUTES):
        for role in LIMITED_ROLES:
            response = client_for(world.a.people[role]).get(reverse(name))
            where = f"limited {role} of A: GET {name}"
            ATTACKS["limited_http"] += 1
            assert response.status_code == 200, f"{where} answered {response.status_code}"
            body = response.content.decode()
            leaked = sorted(s for s in secrets if s in body)
            assert leaked == [], f"{where} shows a camera kept from them: {leaked}"
            seen_garden += str(limited.garden.pk) in body
    assert seen_garden >= 2 * 3, "the lists never showed the garden: the check above would be vacuous"


@pytest.mark.django_db(transaction=True)
def test_their_live_view_of_another_camera_is_refused(asgi_server, world: World):
    limited = limit_member_and_viewer(world.a)

    async def opens(path: str, user_cookie: str) -> bool:
        return await socket_opens(f"{asgi_server.ws}{path}", [("Cookie", user_cookie)], asgi_server.origin)

    async def attack(cookies: dict[str, str]) -> None:
        for name, kwargs in WEBSOCKET_ROUTES.items():
            route = next(r for r in websocket_routes() if r.name == name)
            kept = "/" + route_path(route, kwargs(world.a))
            allowed = "/" + route_path(route, kwargs(on_garden(world.a, limited)))
            for label, cookie in cookies.items():
                ATTACKS["limited_websocket"] += 1
                assert not await opens(kept, cookie), f"limited {label} opened {kept}"
                assert await opens(allowed, cookie), f"limited {label} could not open {allowed}"

    def cookie(user: User) -> str:
        client: Client = client_for(user)
        return f"sessionid={client.cookies['sessionid'].value}"

    asyncio.run(attack({str(role): cookie(world.a.people[role]) for role in LIMITED_ROLES}))


def test_the_ids_it_attacks_are_the_porchs(world: World):
    """The derivation names the porch (A's first camera) and its clips, which the fixture keeps
    from the limited people: attacking anything else would prove nothing."""
    values: set[Any] = set()
    for name in camera_bound(world):
        values |= {str(v) for v in OBJECT_ROUTES[name].kwargs(world.a).values()}
    porch = {str(world.a.cameras[0].pk)} | {str(r.pk) for r in world.a.recordings}
    with account_scope(world.a.account.pk):  # share links of the porch's clips
        links = ShareLink.objects.filter(recording__camera=world.a.cameras[0]).values_list("pk", flat=True)
        porch |= {str(pk) for pk in links}
    assert values, "no camera-bound route"
    assert values <= porch, values - porch
