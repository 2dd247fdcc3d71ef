"""Layer 1: fail-closed querysets. Attacked without the database backstop's help."""

import uuid

import pytest
from django.apps import apps
from django.db import models

from accounts.models import AccessEvent, Account, Membership
from accounts.tenancy import (
    ScopeError,
    TenancyError,
    TenantModel,
    account_scope,
    active_account_id,
    unscoped,
    user_scope,
)


def tenant_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if any(f.name == "account" for f in m._meta.get_fields())]


def test_it_knows_the_tenant_models():
    assert set(tenant_models()) >= {Membership, AccessEvent}


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_it_makes_every_tenant_model_fail_closed(model, world):
    """Every model with an account is a TenantModel whose default manager raises outside a scope."""
    assert issubclass(model, TenantModel), f"{model._meta.label} must subclass TenantModel"
    with pytest.raises(ScopeError):
        list(model._default_manager.all())
    with pytest.raises(ScopeError):
        model._default_manager.filter(pk=uuid.uuid4()).exists()
    with pytest.raises(ScopeError):
        model._default_manager.count()


def test_it_raises_for_accounts_outside_a_scope(world):
    with pytest.raises(ScopeError):
        list(Account.objects.all())


def test_it_shows_only_the_active_household(world):
    with account_scope(world.a.account.pk):
        assert {m.pk for m in Membership.objects.all()} == {m.pk for m in world.a.memberships.values()}
        assert list(Account.objects.all()) == [world.a.account]
        assert {e.pk for e in AccessEvent.objects.all()} == {e.pk for e in world.a.events}
        assert not Membership.objects.filter(pk=world.b.memberships["owner"].pk).exists()


def test_it_refuses_a_scope_without_an_account():
    with pytest.raises(TenancyError), account_scope(None):
        pass
    with pytest.raises(TenancyError), account_scope(""):
        pass
    with pytest.raises(TenancyError), user_scope(None):
        pass


def test_it_refuses_writing_another_households_row(world):
    theirs = world.b.memberships["viewer"]
    with account_scope(world.a.account.pk):
        theirs.role = "owner"
        with pytest.raises(ScopeError):
            theirs.save()
        with pytest.raises(ScopeError):
            theirs.delete()
        with pytest.raises(ScopeError):
            Membership.objects.create(account=world.b.account, user=world.a.owner, role="owner")
    with unscoped("test: verify nothing changed"):
        assert Membership.objects.get(pk=theirs.pk).role == "viewer"
        assert not Membership.objects.filter(account=world.b.account, user=world.a.owner).exists()


def test_it_refuses_writes_with_no_scope(world):
    mine = world.a.memberships["viewer"]
    with pytest.raises(ScopeError):
        mine.save()
    with pytest.raises(ScopeError):
        Account(name="sneaky").save()


def test_user_scope_shows_only_the_users_own_memberships(world):
    with user_scope(world.a.member.pk):
        assert [m.pk for m in Membership.of_user.all()] == [world.a.memberships["member"].pk]
        with pytest.raises(ScopeError):  # household dimension not active
            list(Membership.objects.all())


def test_unscoped_needs_a_reason():
    with pytest.raises(TenancyError), unscoped(""):
        pass


def test_unscoped_sees_every_household(world):
    with unscoped("test"):
        assert Account.objects.count() == 2
        assert active_account_id() is None


def test_nested_scopes_switch_and_come_back(world):
    with account_scope(world.a.account.pk):
        with account_scope(world.b.account.pk):
            assert active_account_id() == world.b.account.pk
            assert list(Account.objects.all()) == [world.b.account]
        assert active_account_id() == world.a.account.pk
        assert list(Account.objects.all()) == [world.a.account]
    assert active_account_id() is None


def test_bulk_writes_cannot_reach_another_household(world):
    with account_scope(world.a.account.pk):
        with pytest.raises(ScopeError):
            Membership.objects.bulk_create([Membership(account=world.b.account, user=world.a.owner, role="owner")])
        with pytest.raises(ScopeError):
            Membership.objects.filter(role="viewer").update(account=world.b.account)
        with pytest.raises(ScopeError):
            AccessEvent.objects.update(account_id=world.b.account.pk)
    with unscoped("test"):
        assert Membership.objects.filter(account=world.b.account).count() == 3
        assert Membership.objects.filter(account=world.a.account).count() == 3


def test_a_forged_primary_key_cannot_update_or_delete_another_households_row(world):
    """The in-memory household id says A; the primary key is B's row."""
    theirs = world.b.memberships["viewer"]
    forged = Membership(pk=theirs.pk, account=world.a.account, user=world.a.owner, role="owner")
    forged._state.adding = False
    with account_scope(world.a.account.pk):
        with pytest.raises(ScopeError):
            forged.save()
        with pytest.raises(ScopeError):
            forged.delete()
    with unscoped("test"):
        row = Membership.objects.get(pk=theirs.pk)
    assert (row.account_id, row.user_id, row.role) == (world.b.account.pk, world.b.viewer.pk, "viewer")


def test_queries_that_django_scopes_leaves_open_are_closed(world):
    with pytest.raises(ScopeError):
        Membership.objects.exists()
    with pytest.raises(ScopeError):
        Membership.objects.in_bulk([world.a.memberships["owner"].pk])
    with pytest.raises(ScopeError):
        Membership.objects.bulk_create([])


def test_an_inner_scope_inherits_nothing_from_an_outer_one(world):
    with user_scope(world.a.member.pk):
        with account_scope(world.b.account.pk), pytest.raises(ScopeError):  # no user dimension was asked for
            list(Membership.of_user.all())
        with unscoped("test"), user_scope(world.a.viewer.pk):
            assert [m.user_id for m in Membership.of_user.all()] == [world.a.viewer.pk]
            with pytest.raises(ScopeError):
                list(Membership.objects.all())
