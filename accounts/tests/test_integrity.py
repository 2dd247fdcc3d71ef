"""Layer 4: the database refuses a child row whose household differs from its parent's."""

import uuid
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from accounts.models import AccessEvent
from accounts.tenancy import account_scope, unscoped


def insert_access_event(account_id: uuid.UUID, membership_id: uuid.UUID) -> uuid.UUID:
    """Insert an access event by raw SQL (past the ORM and the scope); return its id."""
    event_id = uuid.uuid4()
    placeholder = "%s"
    columns = (
        "id, account_id, membership_id, actor_label, via, kind, object_type, object_id, object_label, "
        "user_agent, created_at"
    )
    values: list[Any] = [
        event_id,
        account_id,
        membership_id,
        "x",
        "member",
        "clip_play",
        "recording",
        uuid.uuid4(),
        "",
        "",
        timezone.now(),
    ]
    if connection.vendor == "sqlite":
        values = [v.hex if isinstance(v, uuid.UUID) else v for v in values]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO accounts_accessevent ({columns}) VALUES ({', '.join([placeholder] * len(values))})", values
        )
    return event_id


def test_it_accepts_a_child_of_the_same_household(world):
    with unscoped("test: direct write"):
        event_id = insert_access_event(world.a.account.pk, world.a.memberships["member"].pk)
    with account_scope(world.a.account.pk):
        event = AccessEvent.objects.get(pk=event_id)
    assert (event.account_id, event.membership_id) == (world.a.account.pk, world.a.memberships["member"].pk)


def test_it_refuses_a_child_pointing_into_another_household(world):
    """Written directly (no ORM, RLS bypassed on purpose): only the constraint stands."""
    with pytest.raises(IntegrityError), unscoped("test: direct write"), transaction.atomic():
        insert_access_event(world.a.account.pk, world.b.memberships["member"].pk)


def test_it_refuses_the_same_through_the_orm(world):
    with pytest.raises(IntegrityError), account_scope(world.a.account.pk), transaction.atomic():
        event = AccessEvent.objects.get(pk=world.a.events[0].pk)
        event.membership_id = world.b.memberships["member"].pk
        event.save()


def test_removing_a_member_keeps_their_access_events(world):
    from accounts.services import OPERATOR, member_remove

    with account_scope(world.a.account.pk):
        member_remove(actor=OPERATOR, membership=world.a.memberships["member"])
        event = AccessEvent.objects.get(pk=world.a.events[0].pk)
        assert event.membership_id is None
        assert event.actor_label == "Bob"


def tenant_to_tenant_keys() -> list[tuple[str, str, str]]:
    """(table, column, parent table) for each foreign key between two household-owned tables."""

    def is_tenant(model: Any) -> bool:
        return any(f.name == "account" for f in model._meta.get_fields())

    keys = []
    for model in apps.get_models():
        if not is_tenant(model):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.name != "account" and is_tenant(field.related_model):
                parent: Any = field.related_model
                keys.append((model._meta.db_table, field.column, parent._meta.db_table))
    return keys


def test_it_knows_the_tenant_to_tenant_keys():
    assert ("accounts_accessevent", "membership_id", "accounts_membership") in tenant_to_tenant_keys()


@pytest.mark.django_db
@pytest.mark.parametrize("key", tenant_to_tenant_keys(), ids=lambda k: f"{k[0]}.{k[1]}")
def test_every_tenant_to_tenant_key_has_a_same_account_constraint(key):
    """A new model with a foreign key to another household-owned model fails here until its
    migration adds SameAccountForeignKey."""
    table, column, _parent = key
    name = f"{table}_{column}_same_account"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s AND contype = 'f'", [name])
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s", [f"{name}_ins"])
        assert cursor.fetchone(), f"{table}.{column} has no same-account constraint"


def test_a_parent_cannot_move_to_another_household_under_its_children(world):
    membership = world.a.memberships["member"]  # world.a.events[0] points at it
    with (
        pytest.raises(IntegrityError),
        unscoped("test: direct write"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE accounts_membership SET account_id = %s WHERE id = %s",
            [db_value(world.b.account.pk), db_value(membership.pk)],
        )


def db_value(value: uuid.UUID) -> Any:
    return value.hex if connection.vendor == "sqlite" else value
