from django.urls import reverse

from accounts.confirm import CONFIRMED
from accounts.models import Invitation, Membership, Role
from accounts.tenancy import account_scope, unscoped


def roles(world_household) -> dict[str, str]:
    with account_scope(world_household.account.pk):
        return {m.user.email: m.role for m in Membership.objects.select_related("user")}


def invited(household) -> dict[str, str]:
    with account_scope(household.account.pk):
        return {i.email: i.role for i in Invitation.objects.all()}


def test_it_lists_the_households_members_and_invitations(alice, world):
    body = alice.get(reverse("accounts:members")).content.decode()
    for person in world.a.people.values():
        assert person.email in body
    assert "guest@a.test" in body


def test_an_owner_invites_by_email(alice, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice.post(reverse("accounts:members"), {"email": "NINA@n.test", "role": "viewer"})
    assert response.status_code == 302
    assert invited(world.a)["nina@n.test"] == Role.VIEWER
    assert "nina@n.test" not in roles(world.a)  # not a member until she accepts
    assert len(callbacks) == 1  # the invitation email is enqueued after commit


def test_inviting_says_the_same_whether_or_not_the_address_has_an_account(alice, world):
    """Owners cannot use invitations to find out who uses the site."""
    known = alice.post(reverse("accounts:members"), {"email": "charlie@b.test", "role": "viewer"}, follow=True)
    unknown = alice.post(reverse("accounts:members"), {"email": "ghost@x.test", "role": "viewer"}, follow=True)
    assert known.status_code == unknown.status_code == 200
    assert "Invitation sent to charlie@b.test" in known.content.decode()
    assert "Invitation sent to ghost@x.test" in unknown.content.decode()
    assert "Charlie" not in known.content.decode()  # no name before she accepts


def test_inviting_an_existing_member_is_refused(alice, world):
    response = alice.post(reverse("accounts:members"), {"email": "bob@a.test", "role": "owner"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert roles(world.a)["bob@a.test"] == Role.MEMBER


def test_inviting_again_updates_the_pending_invitation(alice, world):
    alice.post(reverse("accounts:members"), {"email": "guest@a.test", "role": "owner"})
    assert invited(world.a) == {"guest@a.test": Role.OWNER}


def test_non_owners_cannot_invite(bob, vera, world):
    for client in (bob, vera):
        response = client.post(reverse("accounts:members"), {"email": "nina@n.test", "role": "owner"})
        assert response.status_code == 403
    assert "nina@n.test" not in invited(world.a)


def test_an_owner_withdraws_an_invitation(alice, bob, world):
    invitation = world.a.invitations[0]
    assert bob.post(reverse("accounts:invitation-revoke", args=[invitation.pk])).status_code == 403
    assert alice.post(reverse("accounts:invitation-revoke", args=[invitation.pk]), CONFIRMED).status_code == 302
    assert invited(world.a) == {}


def test_an_owner_changes_a_role(alice, world):
    viewer = world.a.memberships[Role.VIEWER]
    response = alice.post(reverse("accounts:member-edit", args=[viewer.pk]), {"role": "member"})
    assert response.status_code == 302
    assert roles(world.a)["vera@a.test"] == Role.MEMBER


def test_an_invalid_role_is_a_form_error(alice, world):
    viewer = world.a.memberships[Role.VIEWER]
    response = alice.post(reverse("accounts:member-edit", args=[viewer.pk]), {"role": "god"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_last_owner_cannot_step_down(alice, world):
    me = world.a.memberships[Role.OWNER]
    response = alice.post(reverse("accounts:member-edit", args=[me.pk]), {"role": "viewer"})
    assert response.status_code == 400
    assert "at least one owner" in response.content.decode()
    assert roles(world.a)["alice@a.test"] == Role.OWNER


def test_a_member_cannot_promote_themselves(bob, world):
    me = world.a.memberships[Role.MEMBER]
    assert bob.post(reverse("accounts:member-edit", args=[me.pk]), {"role": "owner"}).status_code == 403
    assert roles(world.a)["bob@a.test"] == Role.MEMBER


def test_an_owner_removes_a_member(alice, world):
    viewer = world.a.memberships[Role.VIEWER]
    assert alice.post(reverse("accounts:member-remove", args=[viewer.pk]), CONFIRMED).status_code == 302
    assert "vera@a.test" not in roles(world.a)


def test_a_member_leaves_but_cannot_remove_others(bob, world):
    viewer = world.a.memberships[Role.VIEWER]
    assert bob.post(reverse("accounts:member-remove", args=[viewer.pk])).status_code == 403
    me = world.a.memberships[Role.MEMBER]
    assert bob.post(reverse("accounts:member-remove", args=[me.pk]), CONFIRMED)["Location"] == reverse(
        "accounts:households"
    )
    assert "bob@a.test" not in roles(world.a)
    assert bob.get(reverse("accounts:members"))["Location"] == reverse("accounts:households")


def test_the_last_owner_cannot_leave(alice, world):
    me = world.a.memberships[Role.OWNER]
    response = alice.post(reverse("accounts:member-remove", args=[me.pk]), CONFIRMED, follow=True)
    assert "at least one owner" in response.content.decode()
    assert roles(world.a)["alice@a.test"] == Role.OWNER


def test_with_two_owners_one_may_leave(alice, world):
    bob = world.a.memberships[Role.MEMBER]
    alice.post(reverse("accounts:member-edit", args=[bob.pk]), {"role": "owner"})
    me = world.a.memberships[Role.OWNER]
    assert alice.post(reverse("accounts:member-remove", args=[me.pk]), CONFIRMED).status_code == 302
    with unscoped("test"):
        assert not Membership.objects.filter(pk=me.pk).exists()
