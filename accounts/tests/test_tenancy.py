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
