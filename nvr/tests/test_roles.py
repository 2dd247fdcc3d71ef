"""A person never sees a form their role cannot submit: pages hide what a role cannot do,
and the GET of a page for it answers like its POST (a styled 403 in one's own household;
another household's object stays a 404)."""

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from conftest import World, client_for

# Pages for owners and members only (managing cameras and clips), and for owners only.
MANAGER_PAGES = {
    "add a camera": lambda h: reverse("devices:camera-add"),
    "camera settings": lambda h: reverse("devices:camera-edit", args=[h.cameras[0].pk]),
    "delete a camera": lambda h: reverse("devices:camera-delete", args=[h.cameras[0].pk]),
    "issue a new token": lambda h: reverse("devices:camera-token-rotate", args=[h.cameras[0].pk]),
    "revoke a token": lambda h: reverse("devices:camera-token-revoke", args=[h.cameras[0].pk]),
    "delete a clip": lambda h: reverse("recordings:clip-delete", args=[h.recordings[0].pk]),
}
OWNER_PAGES = {
    "change a role": lambda h: reverse("accounts:member-edit", args=[h.memberships[Role.VIEWER].pk]),
    # Someone else for a member or viewer (their own row offers "Leave household").
    "remove a member": lambda h: reverse("accounts:member-remove", args=[h.memberships[Role.OWNER].pk]),
    "withdraw an invitation": lambda h: reverse("accounts:invitation-revoke", args=[h.invitations[0].pk]),
}
ALLOWED = {
    Role.OWNER: set(MANAGER_PAGES) | set(OWNER_PAGES),
    Role.MEMBER: set(MANAGER_PAGES),
    Role.VIEWER: set(),
}


@pytest.mark.usefixtures("world_with_clips")
@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER])
def test_a_roles_pages_answer_like_their_forms(role, world: World):
    client = client_for(world.a.people[role])
    for name, page in (MANAGER_PAGES | OWNER_PAGES).items():
        path = page(world.a)
        response = client.get(path)
        if name in ALLOWED[role]:
            assert response.status_code == 200, f"{role}: GET {name} answered {response.status_code}"
            continue
        assert response.status_code == 403, f"{role}: GET {name} answered {response.status_code}"
        body = response.content.decode()
        assert 'data-testid="error-403"' in body, f"{role}: {name}: not the site's 403 page"
        assert "<form" not in re.split(r"<main[^>]*>", body, maxsplit=1)[1], (
            f"{role}: {name}: the 403 page shows a form"
        )
        # The POST answers the same, and another household's same object is still a 404.
        assert client.post(path, {"household": str(world.a.account.pk)}).status_code == 403
        if page(world.b) != path:  # an object route (adding a camera names none)
            assert client.get(page(world.b)).status_code == 404, f"{role}: {name} of B is not a 404"


def links_and_forms(html: str) -> set[str]:
    """Every address the page links to or posts to."""
    return set(re.findall(r'(?:href|action)="([^"]+)"', html))


@pytest.mark.usefixtures("world_with_clips")
@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER])
def test_pages_offer_only_what_the_role_can_do(role, world: World):
    """The camera page, the clip player, the grid and the members page offer a role's
    actions only: every link or form target on them is one the role may use."""
    client = client_for(world.a.people[role])
    offered: set[str] = set()
    for shown in (
        reverse("devices:grid"),
        reverse("devices:camera", args=[world.a.cameras[0].pk]),
        reverse("recordings:clip", args=[world.a.recordings[0].pk]),
        reverse("accounts:members"),
    ):
        response = client.get(shown)
        assert response.status_code == 200
        offered |= links_and_forms(response.content.decode())
    for name, page in (MANAGER_PAGES | OWNER_PAGES).items():
        assert (page(world.a) in offered) == (name in ALLOWED[role]), f"{role}: {name} offered wrongly"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_settings_pages_show_no_form_to_non_owners(role, world: World):
    """Household settings and storage are pages everyone reads; only owners get the form."""
    client = client_for(world.a.people[role])
    for page in (reverse("accounts:household-settings"), reverse("recordings:storage")):
        body = client.get(page).content.decode()
        assert '<form method="post">' not in body, f"{role}: {page} shows a form"
        assert "Only an owner" in body
        assert client.post(page, {"household": str(world.a.account.pk), "name": "x"}).status_code == 403
    members = client.get(reverse("accounts:members")).content.decode()
    assert "Send invitation" not in members
    # Only their own row has an action: leaving.
    assert members.count("Leave household") == 1
    assert ">Remove<" not in members
    assert "Change role" not in members


def test_owners_see_the_forms(world: World):
    client = client_for(world.a.owner)
    for page in (reverse("accounts:household-settings"), reverse("recordings:storage")):
        assert '<form method="post">' in client.get(page).content.decode()
    members = client.get(reverse("accounts:members")).content.decode()
    assert "Send invitation" in members
    assert ">Remove<" in members


def test_an_empty_timeline_offers_adding_a_camera_only_to_those_who_can(db):
    from accounts.services import OPERATOR, account_create, member_add
    from accounts.tenancy import account_scope
    from accounts.tests.factories import UserFactory

    owner, viewer = UserFactory.create(email="o@empty.test"), UserFactory.create(email="v@empty.test")
    account = account_create(owner=owner, name="No cameras").account
    with account_scope(account.pk):
        member_add(actor=OPERATOR, email=viewer.email, role=Role.VIEWER)
    add = reverse("devices:camera-add")
    assert f'href="{add}"' in client_for(owner).get(reverse("recordings:timeline")).content.decode()
    assert f'href="{add}"' not in client_for(viewer).get(reverse("recordings:timeline")).content.decode()
