import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, User
from accounts.tenancy import account_scope


def run(*args: str) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_create_account_makes_a_household_and_a_new_owner(db):
    data = run("create_account", "--name", "Lake cabin", "--owner-email", "Owner@Lake.test")
    assert data["account"]["name"] == "Lake cabin"
    assert data["owner"] == {"id": data["owner"]["id"], "email": "owner@lake.test", "created": True}
    user = User.objects.get(email="owner@lake.test")
    assert user.check_password(data["password"])


def test_create_account_reuses_an_existing_user(world):
    data = run("create_account", "--name", "Second home", "--owner-email", "alice@a.test")
    assert data["owner"]["created"] is False
    assert data["password"] is None


def test_add_member_and_list_accounts(world):
    data = run("add_member", "--account", str(world.b.account.pk), "--email", "alice@a.test", "--role", "viewer")
    assert data["membership"]["role"] == "viewer"
    listing = run("list_accounts")
    brown = next(a for a in listing["accounts"] if a["id"] == str(world.b.account.pk))
    assert {"email": "alice@a.test", "role": "viewer"} in brown["members"]
    assert len(listing["accounts"]) == 2


def test_remove_member(world):
    run("remove_member", "--account", str(world.a.account.pk), "--email", "vera@a.test")
    with account_scope(world.a.account.pk):
        assert not Membership.objects.filter(user__email="vera@a.test").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add_member", "--account", "not-a-uuid", "--email", "a@b.c"], "is not a household id"),
        (["add_member", "--account", "00000000-0000-0000-0000-000000000000", "--email", "a@b.c"], "No household"),
        (["remove_member", "--account", "00000000-0000-0000-0000-000000000000", "--email", "a@b.c"], "No household"),
        (["create_account", "--name", " ", "--owner-email", "x@y.test"], "needs a name"),
    ],
)
def test_operator_errors_are_readable(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command(*args)


def test_add_member_of_an_unknown_person_is_readable(world):
    with pytest.raises(CommandError, match="Nobody has signed up"):
        call_command("add_member", "--account", str(world.a.account.pk), "--email", "ghost@x.test")


def test_removing_the_last_owner_is_refused(world):
    with pytest.raises(CommandError, match="at least one owner"):
        call_command("remove_member", "--account", str(world.a.account.pk), "--email", "alice@a.test")


def test_a_failed_create_account_leaves_no_user_behind(db):
    with pytest.raises(CommandError):
        call_command("create_account", "--name", "", "--owner-email", "half@x.test")
    assert not User.objects.filter(email="half@x.test").exists()


def test_seed_demo_is_idempotent(db):
    first = run("seed_demo")
    second = run("seed_demo")
    assert first == second
    listing = run("list_accounts")
    assert len(listing["accounts"]) == 1
    assert len(listing["accounts"][0]["members"]) == 3
