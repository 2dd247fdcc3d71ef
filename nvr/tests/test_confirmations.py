"""Every destructive action asks first, on the server: the first click (a GET, or a POST
without the confirmation field) shows "Are you sure?" and changes nothing; confirming acts."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.confirm import CONFIRMED
from accounts.models import Role, User
from conftest import Household, World, client_for
from nvr.tests.test_isolation_matrix import _invitee, snapshot


@dataclass(frozen=True)
class Destructive:
    route: str
    kwargs: Callable[[Household], dict[str, Any]]
    actor: Callable[[Household], User]
    page: Callable[[Household], str]  # the page whose button leads to it
    button: str


DESTRUCTIVE = {
    "remove a member": Destructive(
        "accounts:member-remove",
        lambda h: {"membership_id": h.memberships[Role.VIEWER].pk},
        lambda h: h.owner,
        lambda h: reverse("accounts:members"),
        "Remove",
    ),
    "leave the household": Destructive(
        "accounts:member-remove",
        lambda h: {"membership_id": h.memberships[Role.MEMBER].pk},
        lambda h: h.member,
        lambda h: reverse("accounts:members"),
        "Leave household",
    ),
    "withdraw an invitation": Destructive(
        "accounts:invitation-revoke",
        lambda h: {"invitation_id": h.invitations[0].pk},
        lambda h: h.owner,
        lambda h: reverse("accounts:members"),
        "Withdraw",
    ),
    "decline an invitation": Destructive(
        "accounts:invitation-decline",
        lambda h: {"invitation_id": h.invitations[0].pk},
        _invitee,
        lambda h: reverse("accounts:households"),
        "Decline",
    ),
    "delete a camera": Destructive(
        "devices:camera-delete",
        lambda h: {"camera_id": h.cameras[0].pk},
        lambda h: h.member,
        lambda h: reverse("devices:camera", args=[h.cameras[0].pk]),
        "Delete",
    ),
    "issue a new token": Destructive(
        "devices:camera-token-rotate",
        lambda h: {"camera_id": h.cameras[0].pk},
        lambda h: h.member,
        lambda h: reverse("devices:camera", args=[h.cameras[0].pk]),
        "Issue a new token",
    ),
    "revoke a token": Destructive(
        "devices:camera-token-revoke",
        lambda h: {"camera_id": h.cameras[0].pk},
        lambda h: h.member,
        lambda h: reverse("devices:camera", args=[h.cameras[0].pk]),
        "Revoke its token",
    ),
    "delete a clip": Destructive(
        "recordings:clip-delete",
        lambda h: {"recording_id": h.recordings[0].pk},
        lambda h: h.member,
        lambda h: reverse("recordings:clip", args=[h.recordings[0].pk]),
        "Delete clip",
    ),
}


def forms_posting_to(html: str, path: str) -> list[str]:
    return re.findall(rf'<form[^>]*action="{re.escape(path)}"', html)


@pytest.mark.usefixtures("world_with_clips")
@pytest.mark.parametrize("name", sorted(DESTRUCTIVE))
def test_the_first_click_asks_and_changes_nothing_confirming_acts(name, world: World):
    action = DESTRUCTIVE[name]
    household = world.a
    client: Client = client_for(action.actor(household))
    path = reverse(action.route, kwargs=action.kwargs(household))
    guard = {"household": str(household.account.pk)}

    # The button on its page is a link to the confirmation page, not a form that acts.
    page = client.get(action.page(household)).content.decode()
    assert re.search(rf'<a [^>]*href="{re.escape(path)}"[^>]*>{re.escape(action.button)}</a>', page), name
    assert forms_posting_to(page, path) == [], f"{name}: its page posts to it in one click"

    before = snapshot(household)
    asked = client.get(path)
    assert asked.status_code == 200
    body = asked.content.decode()
    assert 'data-testid="confirmation"' in body
    assert 'name="confirmed" value="yes"' in body
    assert snapshot(household) == before, f"{name}: showing the confirmation changed something"
    # An old page or a crafted form without the confirmation field is asked too.
    unconfirmed = client.post(path, guard)
    assert unconfirmed.status_code == 200
    assert 'data-testid="confirmation"' in unconfirmed.content.decode()
    assert snapshot(household) == before, f"{name}: a POST without confirmation acted"

    done = client.post(path, {**guard, **CONFIRMED})
    assert done.status_code in (200, 302)
    assert 'data-testid="confirmation"' not in done.content.decode()
    assert snapshot(household) != before, f"{name}: confirming did nothing"
