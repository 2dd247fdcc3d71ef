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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, models, transaction
from django_scopes import ScopedManager, ScopeError, get_scope, scope, scopes_disabled

logger = logging.getLogger("nvr.tenancy")

__all__ = [
    "HouseholdManager",
    "HouseholdRowManager",
    "OwnMembershipManager",
    "ScopeError",
    "TenancyError",
    "TenantModel",
    "account_scope",
    "active_account_id",
    "unscoped",
    "user_scope",
]


class TenancyError(RuntimeError):
    """Raised when code asks for a scope without saying which one."""


def _as_uuid(value: uuid.UUID | str | None, what: str) -> uuid.UUID:
    if value is None or value == "":
        raise TenancyError(f"No {what}: refusing to enter a scope that would mean 'every {what}'.")
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


@contextmanager
def _database_settings(**values: str) -> Iterator[None]:
    """Set ``nvr.<name>`` for the current transaction; put the old values back on exit.

    Must run inside ``transaction.atomic()``: ``set_config(..., true)`` lasts
    until the transaction (or savepoint) ends. On an exception the enclosing
    savepoint's rollback restores the previous values, so only the normal exit
    restores them by hand (nested scopes then see their outer values again).
    """
    if connection.vendor != "postgresql":
        yield
        return
    names = [f"nvr.{name}" for name in values]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s, true)"] * len(names)), names)
        row = cursor.fetchone()
        previous = [value or "" for value in (row or [])]
        _set(cursor, names, list(values.values()))
    yield
    with connection.cursor() as cursor:
        _set(cursor, names, previous)


def _set(cursor: Any, names: list[str], values: list[str]) -> None:
    params: list[str] = []
    for name, value in zip(names, values, strict=True):
        params += [name, value]
    cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)), params)


@contextmanager
def account_scope(account_id: uuid.UUID | str | None, *, user_id: uuid.UUID | str | None = None) -> Iterator[None]:
    """Run the block as household ``account_id``, in one transaction."""
    account = _as_uuid(account_id, "account")
    dimensions: dict[str, uuid.UUID] = {"account": account}
    settings = {"account_id": str(account), "unscoped": "off"}
    if user_id is not None:
        dimensions["user"] = _as_uuid(user_id, "user")
        settings["user_id"] = str(dimensions["user"])
    with transaction.atomic(), _database_settings(**settings), scope(**dimensions):
        yield


@contextmanager
def user_scope(user_id: uuid.UUID | str | None) -> Iterator[None]:
    """Run the block with access to this user's own memberships only."""
    user = _as_uuid(user_id, "user")
    with transaction.atomic(), _database_settings(user_id=str(user)), scope(user=user):
        yield


@contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """The one escape hatch: every household's rows. Say why; it is logged."""
    if not reason or not reason.strip():
        raise TenancyError("unscoped() needs a reason.")
    logger.info("unscoped access: %s", reason)
    with transaction.atomic(), _database_settings(unscoped="on"), scopes_disabled():
        yield


def active_account_id() -> uuid.UUID | None:
    """The household whose scope is active, or None (also None when unscoped)."""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    value = current.get("account")
    return value if isinstance(value, uuid.UUID) else None


def assert_may_write(account_id: uuid.UUID | None) -> None:
    """Refuse a write unless the active scope is this row's household (or unscoped)."""
    current = get_scope()
    if not current.get("_enabled", True):
        return
    active = current.get("account")
    if active is None:
        raise ScopeError("Writing a household's row needs an active account scope.")
    if active != account_id:
        raise ScopeError("This row belongs to another household than the active scope.")


# The default managers of household data: django-scopes' ScopedManager, whose
# querysets raise ScopeError unless the named scope dimension is active.
# ScopedManager builds its class at run time; naming the classes here lets the
# type checker (and a reader) find them.
_M = TypeVar("_M", bound=models.Model)
if TYPE_CHECKING:
    from django.db.models import Manager as _HouseholdBase
    from django.db.models import Manager as _OwnBase
    from django.db.models import Manager as _RowBase
else:
    _RowBase = type(ScopedManager(account="account"))
    _HouseholdBase = type(ScopedManager(account="pk"))
    _OwnBase = type(ScopedManager(user="user"))


class HouseholdRowManager(_RowBase[_M]):
    """Rows with an ``account`` foreign key; needs ``account_scope``."""


class HouseholdManager(_HouseholdBase[_M]):
    """``Account`` itself, filtered on its primary key; needs ``account_scope``."""


class OwnMembershipManager(_OwnBase[_M]):
    """A user's own memberships; needs ``user_scope``."""


class TenantModel(models.Model):
    """Base for every model that belongs to a household.

    Subclasses declare ``account`` (a foreign key to ``accounts.Account``) and
    ``objects = HouseholdRowManager()`` as their default manager;
    ``accounts/tests/test_tenancy.py`` checks both for every model.
    """

    account_id: uuid.UUID

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        assert_may_write(self.account_id)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        assert_may_write(self.account_id)
        return super().delete(*args, **kwargs)
