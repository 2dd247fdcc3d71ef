from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
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


def test_an_owner_adds_changes_and_removes_members_through_the_api(world):
    owner = api(world.a.owner)
    created = owner.post(reverse("api:member-list"), {"email": "charlie@b.test", "role": "viewer"}, format="json")
    assert created.status_code == 201, created.content
    member_id = created.json()["id"]
    changed = owner.patch(reverse("api:member-detail", args=[member_id]), {"role": "member"}, format="json")
    assert changed.json()["role"] == "member"
    assert owner.delete(reverse("api:member-detail", args=[member_id])).status_code == 204
    assert owner.get(reverse("api:member-detail", args=[member_id])).status_code == 404


def test_bad_input_gets_readable_errors(world):
    owner = api(world.a.owner)
    bad = owner.post(reverse("api:member-list"), {"email": "nope", "role": "king"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"email", "role"}
    unknown = owner.post(reverse("api:member-list"), {"email": "ghost@x.test", "role": "viewer"}, format="json")
    assert unknown.status_code == 400
    assert "Nobody has signed up" in unknown.json()["email"][0]
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
    body = {"email": "dave@b.test", "role": "viewer", "account": str(world.b.account.pk)}
    created = owner.post(reverse("api:member-list"), body, format="json")
    assert created.status_code == 201
    with account_scope(world.a.account.pk):
        from accounts.models import Membership

        assert Membership.objects.filter(pk=created.json()["id"]).exists()


def test_anonymous_is_refused(db):
    assert APIClient().get(reverse("api:member-list")).status_code == 403
