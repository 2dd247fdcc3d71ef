"""Layer 3: PostgreSQL row-level security, attacked with raw SQL (no ORM scopes at all)."""

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.tenancy import account_scope, unscoped
from conftest import World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-level security is PostgreSQL's (CI runs this with NVR_REQUIRE_SERVICES=1)")


@pytest.fixture
def world(world_with_clips: World) -> World:
    """The attacks walk every tenant table: B's clips and motion events are rows to reach."""
    return world_with_clips


def tenant_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'account_id' ORDER BY table_name"
        )
        return [row[0] for row in cursor.fetchall()]


def raw(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def set_tenant(account_id: object) -> None:
    raw("SELECT set_config('nvr.account_id', %s, true)", [str(account_id)])


def test_it_finds_the_tenant_tables():
    assert {"accounts_membership", "accounts_accessevent"} <= set(tenant_tables())


def test_the_app_role_cannot_bypass_rls():
    [(user, superuser, bypass)] = raw(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert not superuser, f"{user} is a superuser: RLS would not apply"
    assert not bypass, f"{user} has BYPASSRLS"
    owned = raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
    assert owned == [], f"{user} owns tables (owners bypass RLS unless forced): {owned}"


def test_every_tenant_table_has_rls_enabled_and_forced():
    tables = [*tenant_tables(), "accounts_account"]
    rows = raw("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)", [tables])
    state = {name: (enabled, forced) for name, enabled, forced in rows}
    missing = [t for t in tables if state.get(t) != (True, True)]
    assert missing == [], f"tables without RLS enabled and forced: {missing}"
    policies = {row[0] for row in raw("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'")}
    assert set(tables) <= policies


def test_every_tenant_policy_evaluates_the_tenant_once_per_query():
    """Per-row calls cost the timeline 16% and wrong plans (recordings/migrations/0003)."""
    rows = raw("SELECT tablename, qual, with_check FROM pg_policies WHERE policyname = 'tenant_isolation'")
    per_row = [name for name, qual, check in rows if "SELECT nvr_current_account()" not in qual + check]
    assert rows
    assert per_row == [], f"tenant policies evaluated per row: {per_row}"


@pytest.mark.parametrize("table", ["accounts_account", "accounts_membership", "accounts_accessevent"])
def test_raw_sql_without_a_tenant_returns_nothing(world, table):
    with transaction.atomic():
        assert raw(f"SELECT count(*) FROM {table}") == [(0,)]
    with unscoped("test: the rows exist"):
        assert raw(f"SELECT count(*) FROM {table}")[0][0] >= 2


def test_raw_sql_with_tenant_a_returns_only_as_rows(world):
    a, b = world.a.account.pk, world.b.account.pk
    with transaction.atomic():
        set_tenant(a)
        for table in tenant_tables():
            owners = {row[0] for row in raw(f"SELECT account_id FROM {table}")}
            assert owners <= {a}, f"{table} leaked another household's rows"
        assert {row[0] for row in raw("SELECT account_id FROM accounts_membership")} == {a}
        assert raw("SELECT count(*) FROM accounts_membership WHERE account_id = %s", [b]) == [(0,)]
        assert raw("SELECT id FROM accounts_account") == [(a,)]


def test_an_insert_for_b_while_a_is_set_is_refused(world):
    a, b = world.a.account.pk, world.b.account.pk
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        set_tenant(a)
        raw(
            "INSERT INTO accounts_membership (id, account_id, user_id, role, created_at) "
            "VALUES (gen_random_uuid(), %s, %s, 'owner', now())",
            [b, world.a.owner.pk],
        )


def test_an_update_cannot_move_a_row_to_another_household(world):
    a, b = world.a.account.pk, world.b.account.pk
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        set_tenant(a)
        raw("UPDATE accounts_accessevent SET account_id = %s", [b])


def test_an_update_of_bs_rows_while_a_is_set_touches_nothing(world):
    with transaction.atomic():
        set_tenant(world.a.account.pk)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_membership WHERE account_id = %s", [world.b.account.pk])
            assert cursor.rowcount == 0


def test_the_orm_base_manager_is_still_filtered(world):
    """An ORM path that skips django-scopes (the base manager) still sees one household."""
    from accounts.models import Membership

    with account_scope(world.a.account.pk):
        assert {m.account_id for m in Membership._base_manager.all()} == {world.a.account.pk}


def test_a_scope_leaves_nothing_behind(world):
    """After a scope ends, the same transaction sees nothing again (set_config is restored)."""
    with transaction.atomic():
        with account_scope(world.a.account.pk):
            assert raw("SELECT count(*) FROM accounts_membership") == [(3,)]
        assert raw("SELECT count(*) FROM accounts_membership") == [(0,)]
        with account_scope(world.a.account.pk), account_scope(world.b.account.pk):
            assert {r[0] for r in raw("SELECT account_id FROM accounts_membership")} == {world.b.account.pk}


def test_a_user_reads_only_their_own_memberships_without_a_household(world):
    with transaction.atomic():
        raw("SELECT set_config('nvr.user_id', %s, true)", [str(world.a.member.pk)])
        rows = raw("SELECT account_id FROM accounts_membership")
        assert rows == [(world.a.account.pk,)]
        assert raw("SELECT id FROM accounts_account") == [(world.a.account.pk,)]


def test_inner_scopes_reset_every_setting(world):
    """user_scope inside unscoped() must not keep the unscoped switch on."""
    from accounts.tenancy import user_scope

    with unscoped("test"), user_scope(world.a.member.pk):
        assert raw("SELECT account_id FROM accounts_membership") == [(world.a.account.pk,)]
    with account_scope(world.a.account.pk), user_scope(world.b.member.pk):
        assert raw("SELECT account_id FROM accounts_membership") == [(world.b.account.pk,)]


def test_a_scope_marked_for_rollback_exits_cleanly(world):
    """A view that failed marks the transaction for rollback; leaving the scope must
    not run SQL on it (the rollback restores the settings)."""
    with transaction.atomic():
        with account_scope(world.a.account.pk):
            transaction.set_rollback(True)
        assert raw("SELECT count(*) FROM accounts_membership") == [(0,)]


def test_no_role_or_database_defaults_preset_the_settings():
    """ALTER ROLE/DATABASE ... SET nvr.* would pre-open every connection."""
    assert (
        raw("SELECT setconfig FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE %s", ["%nvr.%"]) == []
    )


def test_the_app_role_is_not_a_member_of_the_owner_role():
    rows = raw(
        "SELECT r.rolname FROM pg_roles r WHERE r.rolname <> current_user "
        "AND pg_has_role(current_user, r.oid, 'MEMBER') AND r.rolname NOT LIKE 'pg\\_%%'"
    )
    owners = {row[0] for row in raw("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert not ({row[0] for row in rows} & owners)


@pytest.mark.django_db(transaction=True)
def test_settings_do_not_outlive_a_committed_request(world):
    """After a real (committed) request, the same connection sees nothing without a scope."""
    from django.test import Client

    client = Client()
    client.force_login(world.a.owner)
    assert client.get("/members/").status_code == 200
    assert raw("SELECT current_setting('nvr.account_id', true)") in ([("",)], [(None,)])
    assert raw("SELECT count(*) FROM accounts_membership") == [(0,)]
