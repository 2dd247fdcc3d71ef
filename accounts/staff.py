"""Who counts as support staff, when a staff session may be used, and the operators' staff
services (``manage.py staff``) and the support actions on people.

Staff accounts are made and changed by operators only (``manage.py staff``), never
in the admin. Every staff session must have used a second factor: a staff
password alone opens nothing. A staff account is never a household member.
"""

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.password_reset import request_password_reset
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.core.context import request_context
from allauth.mfa.models import Authenticator
from allauth.usersessions.adapter import get_adapter as get_sessions_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.auth.policy import has_second_factor, session_used_second_factor
from accounts.languages import language_of_user
from accounts.models import Membership, User
from accounts.realtime import close_sockets_on_commit, user_group
from accounts.support_audit import staff_action_record, summary_lazy
from accounts.tenancy import user_scope

SUPPORT_GROUP = "Support"

# Support reads metadata only: view permissions on these models, and nothing else
# (no change, add or delete anywhere; no media model; no second-factor secrets).
SUPPORT_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("accounts", "view_user"),
    ("accounts", "view_account"),
    ("accounts", "view_membership"),
    ("accounts", "view_invitation"),
    ("accounts", "view_accessevent"),
    ("devices", "view_camera"),
    ("devices", "view_devicetoken"),
    ("devices", "view_livesession"),
    ("usersessions", "view_usersession"),
    ("account", "view_emailaddress"),
)


class StaffRole(StrEnum):
    SUPPORT = "support"
    SUPERUSER = "superuser"


def is_support_staff(user: Any) -> bool:
    """An active staff account in the support group, or an operator's superuser."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return False
    return bool(user.is_superuser or user.groups.filter(name=SUPPORT_GROUP).exists())


def staff_session_ready(user: User, session: Mapping[str, Any]) -> bool:
    """Support staff who signed in to this session with their second factor."""
    return is_support_staff(user) and session_used_second_factor(session)


def staff_role(user: User) -> str:
    if user.is_superuser:
        return StaffRole.SUPERUSER
    if user.groups.filter(name=SUPPORT_GROUP).exists():
        return StaffRole.SUPPORT
    return "none"


def support_group_sync() -> Group:
    """Make the support group hold exactly ``SUPPORT_PERMISSIONS`` (idempotent): a
    permission added by hand anywhere is taken away again at the next sync."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    wanted = Q(pk__in=[])
    for app_label, codename in SUPPORT_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def is_household_member(user: User) -> bool:
    with user_scope(user.pk):
        return Membership.of_user.filter(user_id=user.pk).exists()


def password_set_link(*, user: User) -> str:
    """An absolute one-time link to allauth's password-reset page for ``user``: valid until
    the password changes (or the reset timeout passes), so it works once."""
    key = account_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    return f"{settings.SITE_URL}{path}"


def _apply_role(user: User, role: StaffRole) -> None:
    group = support_group_sync()
    user.is_staff = True
    user.is_superuser = role == StaffRole.SUPERUSER
    user.save(update_fields=["is_staff", "is_superuser"])
    if role == StaffRole.SUPPORT:
        user.groups.set([group])
    else:
        user.groups.clear()
    user.user_permissions.clear()  # a role is the group or superuser, never loose permissions


@transaction.atomic
def staff_create(*, email: str, full_name: str, role: StaffRole) -> User:
    """A staff account with no usable password (the person sets one through
    ``password_set_link``, then must enrol a second factor before the admin opens)."""
    email = User.objects.normalize_email(email).strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": "Give the staff member's email address."})
    if User.objects.filter(email__iexact=email).exists() or EmailAddress.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "This email address is already used by an account: use another one."})
    user = User(email=email, full_name=full_name.strip(), email_verified_at=timezone.now())
    user.set_unusable_password()
    user.save()
    # Verified: the operator vouches for it, and a password reset reaches verified addresses only.
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    _apply_role(user, role)
    return user


def _staff_user(email: str) -> User:
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ValidationError({"email": "No account has this email address."})
    return user


@transaction.atomic
def staff_set_role(*, email: str, role: StaffRole) -> User:
    user = _staff_user(email)
    if is_household_member(user):
        raise ValidationError({"email": "This person is a household member: staff accounts are separate accounts."})
    if not user.is_active:
        raise ValidationError({"email": "This account is deactivated."})
    _apply_role(user, role)
    return user


@transaction.atomic
def staff_deactivate(*, email: str) -> User:
    """No staff flags, no role, no sign-in, and every open session ended."""
    user = _staff_user(email)
    if not user.is_staff and not user.is_superuser:
        raise ValidationError({"email": "This account is not a staff account."})
    user.is_active = user.is_staff = user.is_superuser = False
    user.save(update_fields=["is_active", "is_staff", "is_superuser"])
    user.groups.clear()
    user.user_permissions.clear()
    _end_sessions(user)
    return user


@transaction.atomic
def staff_reset_sign_in(*, email: str) -> User:
    """A staff member lost their second factor: remove it and the password, end every
    session; they start again from a new one-time link (``password_set_link``)."""
    user = _staff_user(email)
    if not user.is_staff and not user.is_superuser:
        raise ValidationError({"email": "This account is not a staff account."})
    Authenticator.objects.filter(user=user).delete()
    user.set_unusable_password()
    user.save(update_fields=["password"])
    _end_sessions(user)
    return user


def staff_list() -> list[dict[str, Any]]:
    rows = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True)).order_by("email")
    return [
        {
            "id": str(user.pk),
            "email": user.email,
            "name": user.full_name,
            "role": staff_role(user),
            "active": user.is_active,
            "second_factor": has_second_factor(user),
            "password_set": user.has_usable_password(),
        }
        for user in rows
    ]


# Support actions on a person (the admin's actions on users). Each writes an action entry
# in every household the person belongs to (emailing its owners) and tells the person.


def _households_of(user: User) -> list[uuid.UUID]:
    with user_scope(user.pk):
        return list(Membership.of_user.filter(user_id=user.pk).values_list("account_id", flat=True))


def _record_for_person(*, staff: User, user: User, summary: StrOrPromise) -> None:
    households = _households_of(user)
    for index, account_id in enumerate(households):
        # The person is told once, not once per household.
        staff_action_record(
            staff=staff, account_id=account_id, summary=summary, also_notify=[user.email] if index == 0 else ()
        )
    if not households:
        with translation.override(language_of_user(user)):
            names = {"staff": staff.display_name, "summary": str(summary)}
            subject = _("[NVR] Support %(summary)s") % names
            body = _("Hello,\n\nNVR support staff member %(staff)s %(summary)s.\n") % names
        transaction.on_commit(
            lambda: send_mail(subject, body, None, [user.email], fail_silently=False),
            robust=True,
        )


def _end_sessions(user: User) -> int:
    sessions = UserSession.objects.purge_and_list(user)
    get_sessions_adapter().end_sessions(sessions)
    # Sockets of sessions that allauth no longer lists close too.
    close_sockets_on_commit(user_group(user.pk), reason="signed out by support")
    return len(sessions)


def _refuse_staff_target(user: User) -> None:
    # A support action on a staff account would let one staffer weaken another's (or a
    # superuser's) sign-in; staff accounts are the operators' (``manage.py staff``).
    if user.is_staff or user.is_superuser:
        raise ValidationError(
            _("%(email)s is a staff account: operators manage it with `manage.py staff`.") % {"email": user.email}
        )


def user_sessions_end_by_support(*, staff: User, user: User) -> int:
    """Sign the person out everywhere (their open live views close)."""
    _refuse_staff_target(user)
    ended = _end_sessions(user)
    _record_for_person(
        staff=staff,
        user=user,
        summary=summary_lazy(gettext_lazy("signed %(name)s out of every session"), name=user.display_name),
    )
    return ended


def user_second_factor_reset_by_support(*, staff: User, user: User) -> int:
    """Remove every authenticator (app, recovery codes, passkeys): the person signs in with
    their password and sets up a new one."""
    _refuse_staff_target(user)
    deleted: int = Authenticator.objects.filter(user=user).delete()[0]
    _record_for_person(
        staff=staff,
        user=user,
        summary=summary_lazy(gettext_lazy("reset the second factor of %(name)s"), name=user.display_name),
    )
    return deleted


def user_password_reset_send_by_support(*, staff: User, user: User, request: HttpRequest) -> None:
    """allauth's password-reset email, sent to the person's address (once the audit entry
    commits): staff never see the link."""
    _refuse_staff_target(user)

    def send() -> None:
        # allauth builds the link from the request it is serving (the staff member's), but
        # writes in the language active: the person's, not the staff member's.
        with request_context(request), translation.override(language_of_user(user)):
            request_password_reset(request, user.email, [user], None)

    transaction.on_commit(send, robust=True)
    _record_for_person(
        staff=staff,
        user=user,
        summary=summary_lazy(gettext_lazy("sent %(name)s a password-reset email"), name=user.display_name),
    )
