"""The tenancy mechanism: which household's rows a piece of code may touch.

Two layers enforce it, and each holds on its own:

1. django-scopes: every tenant model's default manager raises ``ScopeError``
   unless a scope is active; writes are checked by ``TenantModel``.
2. PostgreSQL row-level security: the same context managers set
   per-transaction settings (``set_config(..., true)``) that the policies read,
   so raw SQL or an ORM bug with no or the wrong tenant sees no rows.

There are exactly three ways in:

- ``account_scope(account_id)``: one household (requests, consumers, tasks);
- ``user_scope(user_id)``: a signed-in user's own memberships, to pick the
  active household before one is known;
- ``unscoped(reason)``: every household, for migrations, system jobs and support
  tooling. It logs its reason, and ``accounts/tests/test_tenancy_allowlist.py``
  fails if a module outside its allowlist uses it.

None of them accepts ``None`` for an id: a missing id is an error, never "all".
"""

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, models, transaction
from django_scopes import ScopedManager, ScopeError, get_scope
from django_scopes.manager import DisabledQuerySet
from django_scopes.state import state as _scope_state

logger = logging.getLogger("nvr.tenancy")

__all__ = [
    "AccountManager",
    "AccountRowManager",
    "OwnMembershipManager",
    "PendingInvitationManager",
    "RequestScope",
    "ScopeError",
    "TenancyError",
    "TenantModel",
    "TenantScopedModel",
    "account_scope",
    "active_account_id",
    "request_transaction",
    "unscoped",
    "user_scope",
]


class TenancyError(RuntimeError):
    """Raised when code asks for a scope without saying which one."""


def _as_uuid(value: uuid.UUID | str | None, what: str) -> uuid.UUID:
    if value is None or value == "":
        raise TenancyError(f"No {what}: refusing to enter a scope that would mean 'every {what}'.")
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# The per-transaction settings the row-level security policies read. Every scope
# sets all of them, so nothing is inherited from an enclosing scope.
_SETTINGS = ("account_id", "user_id", "email", "unscoped")


@contextmanager
def _database_settings(*, outermost: bool, **values: str) -> Iterator[None]:
    """Set every ``nvr.<name>`` for the current transaction; put the old values back on exit.

    Must run inside ``transaction.atomic()``: ``set_config(..., true)`` lasts
    until the transaction (or savepoint) ends. In the outermost atomic block
    the commit or rollback that ends it drops the values, so there is nothing
    to read first or restore (one statement per scope: this is every request's
    path). In a nested block, when it fails or marks the transaction for
    rollback, the rollback itself restores the previous values (and no query
    may run before it), so only a clean exit restores them by hand; nested
    scopes then see their outer values again.
    """
    if connection.vendor != "postgresql":
        yield
        return
    names = [f"nvr.{name}" for name in _SETTINGS]
    wanted = [values.get(name, "") for name in _SETTINGS]
    with connection.cursor() as cursor:
        if outermost:
            previous = None
        else:
            cursor.execute("SELECT " + ", ".join(["current_setting(%s, true)"] * len(names)), names)
            row = cursor.fetchone()
            previous = [value or "" for value in (row or [])]
        _set(cursor, names, wanted)
    yield
    if previous is not None and not connection.needs_rollback:
        with connection.cursor() as cursor:
            _set(cursor, names, previous)


def _set(cursor: Any, names: list[str], values: list[str]) -> None:
    params: list[str] = []
    for name, value in zip(names, values, strict=True):
        params += [name, value]
    cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)), params)


@contextmanager
def _scope(dimensions: dict[str, Any]) -> Iterator[None]:
    """Make ``dimensions`` the whole django-scopes state for the block.

    django-scopes' own ``scope()`` merges with the enclosing scope, so an inner
    scope would inherit dimensions it never asked for; this replaces them.
    """
    token = _scope_state.set(dimensions)
    try:
        yield
    finally:
        _scope_state.reset(token)


@contextmanager
def account_scope(account_id: uuid.UUID | str | None, *, user_id: uuid.UUID | str | None = None) -> Iterator[None]:
    """Run the block as household ``account_id``, in one transaction."""
    account = _as_uuid(account_id, "account")
    dimensions: dict[str, Any] = {"_enabled": True, "account": account}
    settings = {"account_id": str(account), "unscoped": "off"}
    if user_id is not None:
        dimensions["user"] = _as_uuid(user_id, "user")
        settings["user_id"] = str(dimensions["user"])
    outermost = not connection.in_atomic_block
    with transaction.atomic(), _database_settings(outermost=outermost, **settings), _scope(dimensions):
        yield


@contextmanager
def user_scope(user_id: uuid.UUID | str | None, *, verified_email: str | None = None) -> Iterator[None]:
    """Run the block with access to this user's own memberships only, and to
    invitations addressed to their email once they have verified it."""
    user = _as_uuid(user_id, "user")
    # An impossible address when unverified: the dimension must be present
    # (absent would raise), and must match nothing.
    email = verified_email.lower() if verified_email else f"unverified:{user}"
    dimensions = {"_enabled": True, "user": user, "invitee": email}
    settings = {"user_id": str(user), "email": email if verified_email else "", "unscoped": "off"}
    outermost = not connection.in_atomic_block
    with transaction.atomic(), _database_settings(outermost=outermost, **settings), _scope(dimensions):
        yield


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """The one escape hatch: every household's rows. Say why; it is logged."""
    if not reason or not reason.strip():
        raise TenancyError("unscoped() needs a reason.")
    logger.info("unscoped access: %s", reason)
    outermost = not connection.in_atomic_block
    with transaction.atomic(), _database_settings(outermost=outermost, unscoped="on"), _scope({"_enabled": False}):
        yield


class RequestScope:
    """The scopes of one request in one transaction (``request_transaction``): the user's
    own memberships, then one household. Each switch is one statement and replaces every
    setting; nothing is restored between them, since the transaction's end drops them."""

    def __init__(self) -> None:
        self._token: Any = None

    def _enter(self, dimensions: dict[str, Any], **values: str) -> None:
        if connection.vendor == "postgresql":
            names = [f"nvr.{name}" for name in _SETTINGS]
            with connection.cursor() as cursor:
                _set(cursor, names, [values.get(name, "") for name in _SETTINGS])
        if self._token is not None:
            _scope_state.reset(self._token)
        self._token = _scope_state.set(dimensions)

    def as_user(self, user_id: uuid.UUID | str) -> None:
        """Like ``user_scope`` (no invitations: their email dimension matches nothing)."""
        user = _as_uuid(user_id, "user")
        dimensions = {"_enabled": True, "user": user, "invitee": f"unverified:{user}"}
        self._enter(dimensions, user_id=str(user), unscoped="off")

    def as_account(self, account_id: uuid.UUID | str, *, user_id: uuid.UUID | str) -> None:
        """Like ``account_scope(account_id, user_id=user_id)``."""
        account, user = _as_uuid(account_id, "account"), _as_uuid(user_id, "user")
        self._enter(
            {"_enabled": True, "account": account, "user": user},
            account_id=str(account),
            user_id=str(user),
            unscoped="off",
        )

    def close(self) -> None:
        if self._token is not None:
            _scope_state.reset(self._token)
            self._token = None


@contextmanager
def request_transaction() -> Iterator[RequestScope]:
    """One transaction for a request's scopes (BEGIN and COMMIT once, one statement per
    switch), where ``user_scope`` then ``account_scope`` would take two of each. Inside an
    enclosing transaction (tests) the settings it found are put back on a clean exit."""
    outermost = not connection.in_atomic_block
    names = [f"nvr.{name}" for name in _SETTINGS]
    with transaction.atomic():
        previous = None
        if not outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT " + ", ".join(["current_setting(%s, true)"] * len(names)), names)
                previous = [value or "" for value in (cursor.fetchone() or [])]
        scope = RequestScope()
        try:
            yield scope
        finally:
            scope.close()
        if previous is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                _set(cursor, names, previous)


def active_account_id() -> uuid.UUID | None:
    """The household whose scope is active, or None (also None when unscoped)."""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    value = current.get("account")
    return value if isinstance(value, uuid.UUID) else None


def require_account_scope(account_id: uuid.UUID) -> None:
    """For services: the interface that called them (a request, a socket, a task, an admin
    action) must already run in this household's scope; a service never opens one itself
    (the few that must are listed in ``SCOPE_OPENERS``)."""
    if active_account_id() != account_id:
        raise ScopeError("This service runs inside the household's account_scope(), opened by its caller.")


# The services that open a scope themselves, and why: each enters a household its caller
# could not be in yet, or one household of several. Any other service asserts the scope
# its caller opened (``require_account_scope``); nvr/tests/test_scope_convention.py fails
# on a service module that opens one without being listed here.
SCOPE_OPENERS = {
    "accounts.services.account_create": "creates the household, so enters its scope first",
    "accounts.services.invitation_accept": "joins the invited household, which the request is not in yet",
    "accounts.services.invitation_decline": "acts on the inviting household, which the request is not in",
    "accounts.services.account_activate": "switching marks the household the request is leaving for",
    "accounts.staff.is_household_member": "reads a staff candidate's own memberships (operators' command)",
    "accounts.staff._households_of": "a support action on a person is recorded in each of their households",
    "accounts.support_audit.staff_read_record": "one admin page shows several households: one entry in each",
    "accounts.support_audit.staff_action_record": "support acts from the admin, in no household; it is told",
}


def _is_unscoped() -> bool:
    return not get_scope().get("_enabled", True)


def assert_may_write(account_id: uuid.UUID | None) -> None:
    """Refuse a write unless the active scope is this row's household (or unscoped)."""
    if _is_unscoped():
        return
    active = get_scope().get("account")
    if active is None:
        raise ScopeError("Writing a household's row needs an active account scope.")
    if active != account_id:
        raise ScopeError("This row belongs to another household than the active scope.")


class _ClosedQuerySet(DisabledQuerySet):  # type: ignore[misc]  # django-scopes is untyped
    """django-scopes' DisabledQuerySet, also closing what it leaves open
    (``exists()`` answered outside any scope, bulk writes were allowed)."""

    exists = aexists = contains = acontains = explain = in_bulk = DisabledQuerySet.error
    bulk_create = abulk_create = bulk_update = abulk_update = DisabledQuerySet.error


class TenantQuerySet(models.QuerySet[Any]):
    """Querysets of household data inside a scope: bulk writes checked row by row."""

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        rows = list(objs)
        for row in rows:
            assert_may_write(row.tenant_id)
        return super().bulk_create(rows, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        for key in ("account", "account_id"):
            if key in kwargs:
                value = kwargs[key]
                assert_may_write(getattr(value, "pk", value))
        return super().update(**kwargs)


# The default managers of household data: django-scopes' ScopedManager, whose
# querysets raise ScopeError unless the named scope dimension is active.
# ScopedManager builds its class at run time; naming the classes here lets the
# type checker (and a reader) find them.
_M = TypeVar("_M", bound=models.Model)
if TYPE_CHECKING:
    from django.db.models import Manager as _AccountBase
    from django.db.models import Manager as _InviteeBase
    from django.db.models import Manager as _OwnBase
    from django.db.models import Manager as _RowBase
else:
    _Base = models.Manager.from_queryset(TenantQuerySet)
    _RowBase = type(ScopedManager(_Base, account="account"))
    _AccountBase = type(ScopedManager(_Base, account="pk"))
    _OwnBase = type(ScopedManager(_Base, user="user"))
    _InviteeBase = type(ScopedManager(_Base, invitee="email"))


class _Strict:
    def get_queryset(self) -> Any:
        queryset = super().get_queryset()  # type: ignore[misc]
        if isinstance(queryset, DisabledQuerySet):
            return _ClosedQuerySet(queryset.model, using=queryset.db, missing_scopes=queryset.missing_scopes)
        return queryset


class AccountRowManager(_Strict, _RowBase[_M]):
    """Rows with an ``account`` foreign key; needs ``account_scope``."""


class AccountManager(_Strict, _AccountBase[_M]):
    """``Account`` itself, filtered on its primary key; needs ``account_scope``."""


class OwnMembershipManager(_Strict, _OwnBase[_M]):
    """A user's own memberships; needs ``user_scope``."""


class PendingInvitationManager(_Strict, _InviteeBase[_M]):
    """Invitations addressed to the user's verified email; needs ``user_scope``."""


class TenantScopedModel(models.Model):
    """Writes of a household's row are checked against the active scope.

    An update or delete is by primary key, and the primary key is trusted no
    more than the in-memory household id: the row must be visible in the scope.
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        assert_may_write(self.tenant_id)
        self._assert_row_in_scope()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        assert_may_write(self.tenant_id)
        self._assert_row_in_scope()
        return super().delete(*args, **kwargs)

    @property
    def tenant_id(self) -> uuid.UUID | None:
        raise NotImplementedError

    def _assert_row_in_scope(self) -> None:
        if _is_unscoped() or self._state.adding:
            return
        if not type(self)._default_manager.filter(pk=self.pk).exists():
            raise ScopeError(f"{type(self).__name__} {self.pk} is not a row of the active household.")


class TenantModel(TenantScopedModel):
    """Base for every model that belongs to a household.

    Subclasses declare ``account`` (a foreign key to ``accounts.Account``) and
    ``objects = AccountRowManager()`` as their default manager;
    ``accounts/tests/test_tenancy.py`` checks both for every model.
    """

    account_id: uuid.UUID

    class Meta:
        abstract = True

    @property
    def tenant_id(self) -> uuid.UUID | None:
        return self.account_id
