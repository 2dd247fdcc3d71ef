from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Invitation, Role
from accounts.tenancy import account_scope


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_it_describes_the_active_household(world):
    data = api(world.a.member).get(reverse("api:household")).json()
    assert data["id"] == str(world.a.account.pk)
    assert data["name"] == "Atkins family"
    assert data["role"] == "member"


def test_it_lists_members_with_a_cursor(world):
    data = api(world.a.viewer).get(reverse("api:member-list")).json()
    assert {m["user"]["email"] for m in data["results"]} == {"alice@a.test", "bob@a.test", "vera@a.test"}
    assert set(data) == {"next", "previous", "results"}


def test_an_owner_invites_changes_and_removes_through_the_api(world):
    owner = api(world.a.owner)
    created = owner.post(reverse("api:invitation-list"), {"email": "nina@n.test", "role": "viewer"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "nina@n.test"
    listed = owner.get(reverse("api:invitation-list")).json()["results"]
    assert {i["email"] for i in listed} == {"nina@n.test", "guest@a.test"}
    assert owner.delete(reverse("api:invitation-detail", args=[created.json()["id"]])).status_code == 204
    member_id = world.a.memberships[Role.VIEWER].pk
    changed = owner.patch(reverse("api:member-detail", args=[member_id]), {"role": "member"}, format="json")
    assert changed.json()["role"] == "member"
    assert owner.delete(reverse("api:member-detail", args=[member_id])).status_code == 204
    assert owner.get(reverse("api:member-detail", args=[member_id])).status_code == 404


def test_members_cannot_be_added_directly(world):
    owner = api(world.a.owner)
    response = owner.post(reverse("api:member-list"), {"email": "charlie@b.test", "role": "owner"}, format="json")
    assert response.status_code == 405


def test_bad_input_gets_readable_errors(world):
    owner = api(world.a.owner)
    bad = owner.post(reverse("api:invitation-list"), {"email": "nope", "role": "king"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"email", "role"}
    member = owner.post(reverse("api:invitation-list"), {"email": "bob@a.test", "role": "viewer"}, format="json")
    assert member.status_code == 400
    assert "already a member" in member.json()["email"][0]
    last_owner = world.a.memberships[Role.OWNER].pk
    demote = owner.patch(reverse("api:member-detail", args=[last_owner]), {"role": "viewer"}, format="json")
    assert demote.status_code == 400
    assert "at least one owner" in demote.json()["role"][0]


def test_non_owners_get_403_on_their_own_household(world):
    member = api(world.a.member)
    target = world.a.memberships[Role.VIEWER].pk
    assert (
        member.patch(reverse("api:member-detail", args=[target]), {"role": "owner"}, format="json").status_code == 403
    )
    assert member.delete(reverse("api:member-detail", args=[target])).status_code == 403


def test_the_body_cannot_name_another_household(world):
    """An 'account' field in the body is ignored: the household comes from the session."""
    owner = api(world.a.owner)
    body = {"email": "nina@n.test", "role": "viewer", "account": str(world.b.account.pk)}
    created = owner.post(reverse("api:invitation-list"), body, format="json")
    assert created.status_code == 201
    with account_scope(world.a.account.pk):
        assert Invitation.objects.filter(pk=created.json()["id"]).exists()
    with account_scope(world.b.account.pk):
        assert not Invitation.objects.filter(email="nina@n.test").exists()


def test_anonymous_is_refused(db):
    assert APIClient().get(reverse("api:member-list")).status_code == 403
