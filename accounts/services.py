"""Writes: people, households, invitations and members, and notices about sign-ins.

Keyword-only, typed, one transaction each. Authorisation of member changes
lives here (not in views) so the portal, the API and the management commands
share one rule set. People join a household only by accepting an invitation
sent to an address they have verified; operators (management commands) may add
an existing user directly.
"""

import uuid

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.auth.policy import has_second_factor, users_with_second_factor
from accounts.languages import language_of_user
from accounts.models import INVITATION_LIFETIME, OPERATORS_LABEL, Account, Invitation, Membership, Role, User
from accounts.realtime import close_sockets_on_commit, member_group, session_group, user_group
from accounts.tenancy import TenancyError, account_scope, active_account_id
from accounts.timezones import zone_of_user


def user_create(*, email: str, password: str, full_name: str = "", email_verified: bool = False) -> User:
    """A person, with their address recorded for sign-in (allauth's ``EmailAddress``).

    Operators' commands pass ``email_verified`` for people they vouch for; sign-up
    goes through allauth, which confirms the address by email.
    """
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account with this email address already exists.")})
    user = User(email=email, full_name=full_name.strip(), email_verified_at=timezone.now() if email_verified else None)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user


def account_create(*, owner: User, name: str) -> Membership:
    """Create a household with ``owner`` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A household needs a name.")})
    if owner.is_staff or owner.is_superuser:
        raise ValidationError(
            _("Staff accounts cannot have a household: use a separate, personal account for your home.")
        )
    # The id is chosen here so the new household's own scope can be entered
    # before its first row exists (RLS checks inserts against that scope).
    account = Account(id=uuid.uuid4(), name=name)
    with account_scope(account.id, user_id=owner.pk):
        account.save()
        return Membership.objects.create(account=account, user=owner, role=Role.OWNER)


def email_confirmed(*, user: User, email: str) -> None:
    """Mirror a confirmed primary address on the user: invitations reach only that address
    (``user_scope`` reads it, and RLS on invitations checks it)."""
    user.refresh_from_db(fields=["email", "email_verified_at"])
    if user.email == email and user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])


def user_time_zone_set(*, user: User, time_zone: str) -> None:
    """The IANA zone the person's pages show times in ("": their browser's). Checked by the form."""
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])


def user_language_set(*, user: User, language: str) -> None:
    """The language of the person's pages and emails ("": their browser's). Checked by the form."""
    user.language = language
    user.save(update_fields=["language"])


def sign_in_notice_send(*, user: User, address: str, browser: str) -> None:
    """Tell a person that their account was signed in to from a browser new to it, in their language
    and time zone (there may be no request in their language: the browser is new)."""
    zone = zone_of_user(user)
    with translation.override(language_of_user(user)):
        when = formats.date_format(timezone.localtime(timezone.now(), zone), "DATETIME_FORMAT")
        body = _(
            "Hello %(name)s,\n\n"
            "Your NVR account was signed in to from a browser that had not been used with it before:\n\n"
            "  When: %(when)s (%(zone)s)\n  Address: %(address)s\n  Browser: %(browser)s\n\n"
            "If this was you, there is nothing to do. If not, change your password now and sign out the "
            "sessions you do not recognise: %(sessions_url)s\n"
        ) % {
            "name": user.display_name,
            "when": when,
            "zone": str(zone),
            "address": address,
            "browser": browser,
            "sessions_url": f"{settings.SITE_URL}{reverse('accounts:sessions')}",
        }
        subject = _("[NVR] New sign-in to your account")
    # Sent at once, like allauth's own notices: the sign-in has happened whatever follows.
    send_mail(subject, body, None, [user.email])


class Operator:
    """The actor for operators' management commands: trusted, like an owner."""

    is_owner = True
    pk = None

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()
Actor = Membership | Operator


def _require_owner(actor: Actor) -> None:
    if not actor.is_owner:
        raise PermissionDenied(_("Only an owner of this household can manage its members."))


def actor_account_id(actor: Actor) -> uuid.UUID:
    """The active household, checked to be the actor's own (services of every app call this)."""
    account_id = active_account_id()
    if account_id is None:
        raise TenancyError("Member changes run inside the household's account_scope().")
    if isinstance(actor, Membership) and actor.account_id != account_id:
        raise PermissionDenied("The actor is not a member of the active household.")
    return account_id


def _refuse_staff(user: User) -> None:
    # Support sees households only through the admin and the household's grants, both
    # audited; a membership would be a door around them.
    if user.is_staff or user.is_superuser:
        raise ValidationError(
            {"email": _("Staff accounts cannot join a household: use a separate, personal account for your home.")}
        )


def member_add(*, actor: Operator, email: str, role: Role) -> Membership:
    """Operators only: add an existing user to the active household directly.

    Household owners invite instead (``invitation_create``): nobody becomes a
    member of a household they did not agree to join.
    """
    account_id = actor_account_id(actor)
    email = email.strip().lower()
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        raise ValidationError({"email": _("Nobody has signed up with this email address.")})
    _refuse_staff(user)
    already = _("%(name)s is already a member of this household.") % {"name": user.display_name}
    if Membership.objects.filter(user=user).exists():
        raise ValidationError({"email": already})
    try:
        with transaction.atomic():
            return Membership.objects.create(account_id=account_id, user=user, role=role)
    except IntegrityError:  # a concurrent add of the same person won the race
        raise ValidationError({"email": already}) from None


def invitation_create(*, actor: Actor, email: str, role: Role) -> Invitation:
    """Invite an address to the active household (again: refreshes the role and expiry).

    The answer is the same whether or not the address has an account here, so
    inviting reveals nothing about who uses the site.
    """
    from accounts.tasks import send_invitation_email

    account_id = actor_account_id(actor)
    _require_owner(actor)
    email = User.objects.normalize_email(email).strip().lower()
    if Membership.objects.filter(user__email=email).exists():
        raise ValidationError({"email": _("This person is already a member of this household.")})
    inviter = actor.user if isinstance(actor, Membership) else None
    account = Account.objects.get(pk=account_id)
    invitation = Invitation.objects.filter(email=email).first() or Invitation(account_id=account_id, email=email)
    invitation.role = role
    invitation.invited_by = inviter
    invitation.inviter_label = inviter.display_name if inviter else OPERATORS_LABEL
    invitation.household_name = account.name
    invitation.expires_at = timezone.now() + INVITATION_LIFETIME
    try:
        with transaction.atomic():
            invitation.save()
    except IntegrityError:  # the same address invited twice at once: the first one stands
        raise ValidationError({"email": _("This address was just invited.")}) from None
    ids = (str(account_id), str(invitation.pk))
    # robust: the invitation is committed; a broker hiccup loses an email, not the request.
    transaction.on_commit(lambda: send_invitation_email.delay(*ids), robust=True)
    return invitation


def invitation_revoke(*, actor: Actor, invitation: Invitation) -> None:
    actor_account_id(actor)
    _require_owner(actor)
    invitation.delete()


def invitation_accept(*, user: User, invitation: Invitation) -> Membership:
    """Join the invitation's household. ``invitation`` was found through the user's
    own verified address (``selectors.invitation_for_invitee_get``)."""
    _refuse_staff(user)
    if invitation.is_expired:
        raise ValidationError(_("This invitation has expired. Ask the household's owner to invite you again."))
    with account_scope(invitation.account_id, user_id=user.pk):
        # Re-read inside the household's scope, locked: accepting twice at once,
        # or a revoke racing the accept, must not leave two memberships or none.
        current = Invitation.objects.select_for_update().filter(pk=invitation.pk, email=user.email).first()
        if current is None:
            raise ValidationError(_("This invitation was withdrawn."))
        membership = Membership.objects.filter(user=user).first()
        if membership is None:
            membership = Membership.objects.create(account_id=current.account_id, user=user, role=current.role)
        current.delete()
        return membership


def invitation_decline(*, user: User, invitation: Invitation) -> None:
    with account_scope(invitation.account_id, user_id=user.pk):
        Invitation.objects.filter(pk=invitation.pk, email=user.email).delete()


def _lock_owners() -> list[Membership]:
    # Two owners demoting each other at once must not leave the household with
    # none: lock the owner rows so the second change sees the first.
    return list(Membership.objects.select_for_update().filter(role=Role.OWNER))


@transaction.atomic
def member_set_role(*, actor: Actor, membership: Membership, role: Role) -> Membership:
    actor_account_id(actor)
    _require_owner(actor)
    if membership.role == Role.OWNER and role != Role.OWNER and len(_lock_owners()) <= 1:
        raise ValidationError({"role": _("A household needs at least one owner. Make someone else owner first.")})
    membership.role = role
    # Owners see every camera: a later demotion must not bring back an old limit.
    if role == Role.OWNER:
        membership.camera_access_limited = False
    membership.save(update_fields=["role", "camera_access_limited"])
    return membership


@transaction.atomic
def member_remove(*, actor: Actor, membership: Membership) -> None:
    """Owners remove anyone; anyone may leave (remove themselves)."""
    actor_account_id(actor)
    if membership.pk != actor.pk:
        _require_owner(actor)
    if membership.role == Role.OWNER and len(_lock_owners()) <= 1:
        raise ValidationError(_("A household needs at least one owner. Make someone else owner first."))
    close_sockets_on_commit(member_group(membership.account_id, membership.user_id), reason="membership removed")
    membership.delete()


def password_changed(*, user: User) -> None:
    """A new password ends every open socket of the user (other sessions stop at their next request)."""
    close_sockets_on_commit(user_group(user.pk), reason="password changed")


def session_ended(*, session_key: str | None) -> None:
    """Signing out closes the sockets that session opened."""
    if session_key:
        close_sockets_on_commit(session_group(session_key), reason="signed out")


def account_activate(*, membership: Membership) -> None:
    """Remember the household as the user's last used: it is chosen at their next sign-in."""
    with account_scope(membership.account_id, user_id=membership.user_id):
        Membership.objects.filter(pk=membership.pk).update(last_active_at=timezone.now())


def account_rename(*, actor: Membership, name: str) -> Account:
    _require_owner(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A household needs a name.")})
    account = actor.account
    account.name = name
    account.save(update_fields=["name"])
    return account


def account_require_second_factor(*, actor: Membership, required: bool) -> Account:
    """Owners require a second factor of everyone in the household, once they have one themselves."""
    _require_owner(actor)
    account = actor.account
    if account.require_second_factor == required:
        return account
    if required and not has_second_factor(actor.user):
        raise ValidationError(_("Set up your own second factor first (Security page), then require it of everyone."))
    account.require_second_factor = required
    account.save(update_fields=["require_second_factor"])
    if required:
        # Their open live views close now, not at the next periodic re-check. (Sessions of
        # people who have one but signed in without it close at the re-check.)
        members = list(Membership.objects.filter(account=account).values_list("user_id", flat=True))
        enrolled = users_with_second_factor(members)
        groups = [member_group(account.pk, user_id) for user_id in members if user_id not in enrolled]
        close_sockets_on_commit(*groups, reason="second factor required")
    return account
