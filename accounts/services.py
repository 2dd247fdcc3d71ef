"""Writes: sign-up, households and members. Keyword-only, typed, one transaction each.

Authorisation of member changes lives here (not in views) so the portal, the
API and the management commands share one rule set.
"""

import uuid

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account, Membership, Role, User
from accounts.tenancy import TenancyError, account_scope, active_account_id


def user_create(*, email: str, password: str, full_name: str = "") -> User:
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": "An account with this email address already exists."})
    user = User(email=email, full_name=full_name.strip())
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


def account_create(*, owner: User, name: str) -> Membership:
    """Create a household with ``owner`` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A household needs a name."})
    # The id is chosen here so the new household's own scope can be entered
    # before its first row exists (RLS checks inserts against that scope).
    account = Account(id=uuid.uuid4(), name=name)
    with account_scope(account.id, user_id=owner.pk):
        account.save()
        return Membership.objects.create(account=account, user=owner, role=Role.OWNER)


@transaction.atomic
def user_signup(*, email: str, password: str, full_name: str, household_name: str) -> Membership:
    """A new person and their household; they are its owner."""
    user = user_create(email=email, password=password, full_name=full_name)
    return account_create(owner=user, name=household_name)


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
        raise PermissionDenied("Only an owner of this household can manage its members.")


def _scope_account_id(actor: Actor) -> uuid.UUID:
    account_id = active_account_id()
    if account_id is None:
        raise TenancyError("Member changes run inside the household's account_scope().")
    if isinstance(actor, Membership) and actor.account_id != account_id:
        raise PermissionDenied("The actor is not a member of the active household.")
    return account_id


def member_add(*, actor: Actor, email: str, role: Role) -> Membership:
    """Add an existing user to the active household."""
    from accounts.tasks import notify_member_added

    account_id = _scope_account_id(actor)
    _require_owner(actor)
    email = email.strip().lower()
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        raise ValidationError({"email": "Nobody has signed up with this email address yet. Ask them to sign up first."})
    if Membership.objects.filter(user=user).exists():
        raise ValidationError({"email": f"{user.display_name} is already a member of this household."})
    try:
        with transaction.atomic():
            membership = Membership.objects.create(account_id=account_id, user=user, role=role)
    except IntegrityError:  # a concurrent add of the same person won the race
        raise ValidationError({"email": f"{user.display_name} is already a member of this household."}) from None
    ids = (str(account_id), str(membership.pk))
    # robust: the membership is committed; a broker hiccup loses an email, not the request.
    transaction.on_commit(lambda: notify_member_added.delay(*ids), robust=True)
    return membership


def _lock_owners() -> list[Membership]:
    # Two owners demoting each other at once must not leave the household with
    # none: lock the owner rows so the second change sees the first.
    return list(Membership.objects.select_for_update().filter(role=Role.OWNER))


@transaction.atomic
def member_set_role(*, actor: Actor, membership: Membership, role: Role) -> Membership:
    _scope_account_id(actor)
    _require_owner(actor)
    if membership.role == Role.OWNER and role != Role.OWNER and len(_lock_owners()) <= 1:
        raise ValidationError({"role": "A household needs at least one owner. Make someone else owner first."})
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, actor: Actor, membership: Membership) -> None:
    """Owners remove anyone; anyone may leave (remove themselves)."""
    _scope_account_id(actor)
    if membership.pk != actor.pk:
        _require_owner(actor)
    if membership.role == Role.OWNER and len(_lock_owners()) <= 1:
        raise ValidationError("A household needs at least one owner. Make someone else owner first.")
    membership.delete()


def account_rename(*, actor: Membership, name: str) -> Account:
    _require_owner(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A household needs a name."})
    account = actor.account
    account.name = name
    account.save(update_fields=["name"])
    return account
