"""Joining a household: only by accepting an invitation sent to one's verified address."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.confirm import CONFIRMED
from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.models import Invitation, Membership, Role
from accounts.services import OPERATOR, invitation_create
from accounts.tenancy import account_scope, unscoped
from accounts.tests.factories import UserFactory
from conftest import client_for


def invite(household, email: str, role: Role = Role.MEMBER) -> Invitation:
    with account_scope(household.account.pk):
        return invitation_create(actor=OPERATOR, email=email, role=role)


def members_of(household) -> dict[str, str]:
    with account_scope(household.account.pk):
        return {m.user.email: m.role for m in Membership.objects.select_related("user")}


def test_the_invitee_sees_and_accepts_the_invitation(world):
    nina = UserFactory.create(email="nina@n.test")
    invitation = invite(world.a, "nina@n.test", Role.VIEWER)
    client = client_for(nina)
    page = client.get(reverse("accounts:households")).content.decode()
    assert "Atkins family" in page
    assert "The site&#x27;s operators" in page  # who invited: the operator, here
    response = client.post(reverse("accounts:invitation-accept", args=[invitation.pk]))
    assert response["Location"] == reverse("accounts:home")
    assert members_of(world.a)["nina@n.test"] == Role.VIEWER
    assert client.session[ACTIVE_ACCOUNT_SESSION_KEY] == str(world.a.account.pk)
    with unscoped("test"):
        assert not Invitation.objects.filter(pk=invitation.pk).exists()


def test_an_unverified_address_sees_no_invitation_and_cannot_accept(world):
    """Someone who signed up with another person's address cannot take their invitations."""
    squatter = UserFactory.create(email="nina@n.test", email_verified_at=None)
    invitation = invite(world.a, "nina@n.test")
    client = client_for(squatter)
    page = client.get(reverse("accounts:households")).content.decode()
    assert "Atkins family" not in page
    assert "Confirm your email address" in page
    assert client.post(reverse("accounts:invitation-accept", args=[invitation.pk])).status_code == 404
    assert "nina@n.test" not in members_of(world.a)


def test_nobody_accepts_an_invitation_addressed_to_someone_else(world):
    invitation = world.b.invitations[0]  # to guest@b.test
    for user in (world.a.owner, world.b.owner, world.b.member):
        client = client_for(user)
        assert client.post(reverse("accounts:invitation-accept", args=[invitation.pk])).status_code == 404
        assert client.post(reverse("accounts:invitation-decline", args=[invitation.pk])).status_code == 404
    with unscoped("test"):
        assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_an_expired_invitation_cannot_be_accepted(world):
    nina = UserFactory.create(email="nina@n.test")
    invitation = invite(world.a, "nina@n.test")
    with account_scope(world.a.account.pk):
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for(nina).post(reverse("accounts:invitation-accept", args=[invitation.pk]), follow=True)
    assert "This invitation has expired" in response.content.decode()
    assert "nina@n.test" not in members_of(world.a)


def test_declining_removes_the_invitation(world):
    nina = UserFactory.create(email="nina@n.test")
    invitation = invite(world.a, "nina@n.test")
    assert (
        client_for(nina).post(reverse("accounts:invitation-decline", args=[invitation.pk]), CONFIRMED).status_code
        == 302
    )
    assert "nina@n.test" not in members_of(world.a)
    with unscoped("test"):
        assert not Invitation.objects.filter(pk=invitation.pk).exists()


def test_a_withdrawn_invitation_cannot_be_accepted(world, alice):
    nina = UserFactory.create(email="nina@n.test")
    invitation = invite(world.a, "nina@n.test")
    alice.post(reverse("accounts:invitation-revoke", args=[invitation.pk]), CONFIRMED)
    assert client_for(nina).post(reverse("accounts:invitation-accept", args=[invitation.pk])).status_code == 404
    assert "nina@n.test" not in members_of(world.a)


def test_a_member_of_another_household_joins_a_second_one(world):
    invitation = invite(world.a, "charlie@b.test", Role.VIEWER)
    charlie = client_for(world.b.owner)
    charlie.post(reverse("accounts:invitation-accept", args=[invitation.pk]))
    assert members_of(world.a)["charlie@b.test"] == Role.VIEWER
    assert members_of(world.b)["charlie@b.test"] == Role.OWNER
    assert "Atkins family" in charlie.get(reverse("accounts:home")).content.decode()
