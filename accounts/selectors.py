"""Reads. Each takes what it needs as keyword arguments and runs inside a scope.

Object lookups answer ``Http404`` for a missing object and for another
household's object alike: the scope filters the second out, so the two cases
cannot be told apart.
"""

import uuid

from django.http import Http404

from accounts.models import AccessEvent, Invitation, Membership, Role, User
from accounts.tenancy import user_scope
from accounts.visibility import access_events_visible_to


def memberships_for_user(*, user_id: uuid.UUID) -> list[Membership]:
    """The user's memberships across households (needs ``user_scope``)."""
    return list(Membership.of_user.filter(user_id=user_id).select_related("account").order_by("account__name"))


def membership_for_account(*, memberships: list[Membership], account_id: uuid.UUID) -> Membership:
    """The user's membership of ``account_id``, or 404 if they have none."""
    for membership in memberships:
        if membership.account_id == account_id:
            return membership
    raise Http404("No such household.")


def membership_get(*, membership_id: uuid.UUID | str) -> Membership:
    """One membership of the active household, or 404."""
    try:
        return Membership.objects.select_related("user", "account").get(pk=membership_id)
    except (Membership.DoesNotExist, ValueError):
        raise Http404("No such member.") from None


_ROLE_ORDER = {Role.OWNER: 0, Role.MEMBER: 1, Role.VIEWER: 2}


def members_list() -> list[Membership]:
    """The active household's members, owners first."""
    members = list(Membership.objects.select_related("user"))
    return sorted(members, key=lambda m: (_ROLE_ORDER[Role(m.role)], m.user.email))


def owner_count() -> int:
    return Membership.objects.filter(role=Role.OWNER).count()


def access_events_list(*, viewer: Membership, limit: int = 200) -> list[AccessEvent]:
    """The active household's most recent access events that ``viewer`` may see
    (a member limited to some cameras sees only theirs)."""
    return list(access_events_visible_to(AccessEvent.objects.all(), viewer=viewer).order_by("-created_at")[:limit])


def invitations_list() -> list[Invitation]:
    """The active household's pending invitations."""
    return list(Invitation.objects.order_by("email"))


def invitation_get(*, invitation_id: uuid.UUID | str) -> Invitation:
    """One pending invitation of the active household, or 404."""
    try:
        return Invitation.objects.get(pk=invitation_id)
    except (Invitation.DoesNotExist, ValueError):
        raise Http404("No such invitation.") from None


def invitations_for_invitee(*, user: User) -> list[Invitation]:
    """Invitations addressed to the user's verified email, across households."""
    if not user.verified_email:
        return []
    with user_scope(user.pk, verified_email=user.verified_email):
        return list(Invitation.for_invitee.order_by("-created_at"))


def invitation_for_invitee_get(*, user: User, invitation_id: uuid.UUID) -> Invitation:
    """An invitation addressed to the user's verified email, or 404 (also when unverified)."""
    for invitation in invitations_for_invitee(user=user):
        if invitation.pk == invitation_id:
            return invitation
    raise Http404("No such invitation.")
