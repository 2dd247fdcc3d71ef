"""Migration operations for the database-level tenancy backstop.

Every tenant table's migration uses ``EnableRowLevelSecurity``; every foreign
key from one tenant table to another uses ``SameAccountForeignKey``. Tests in
``accounts/tests/test_rls.py`` and ``test_integrity.py`` fail on a tenant table
or a tenant-to-tenant key that lacks them.
"""

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation

# Read by every policy. NULLIF matters: after a transaction that set a value
# ends, current_setting(..., true) returns '' (not NULL) and ''::uuid errors.
TENANT_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION nvr_current_account() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('nvr.account_id', true), '')::uuid $$;
CREATE OR REPLACE FUNCTION nvr_current_user() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('nvr.user_id', true), '')::uuid $$;
CREATE OR REPLACE FUNCTION nvr_current_email() RETURNS text LANGUAGE sql STABLE AS
  $$ SELECT NULLIF(current_setting('nvr.email', true), '') $$;
CREATE OR REPLACE FUNCTION nvr_unscoped() RETURNS boolean LANGUAGE sql STABLE AS
  $$ SELECT coalesce(current_setting('nvr.unscoped', true), '') = 'on' $$;
"""
DROP_TENANT_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS nvr_current_account();
DROP FUNCTION IF EXISTS nvr_current_user();
DROP FUNCTION IF EXISTS nvr_current_email();
DROP FUNCTION IF EXISTS nvr_unscoped();
"""


class _PostgresOperation(Operation):
    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label: str, state: Any) -> None:
        """Database-only: the model state does not change."""

    def forwards_sql(self) -> list[str]:
        raise NotImplementedError

    def backwards_sql(self) -> list[str]:
        raise NotImplementedError

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.forwards_sql():
                schema_editor.execute(statement)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in self.backwards_sql():
                schema_editor.execute(statement)


def tenant_condition(column: str) -> str:
    """The tenant policy's condition. The functions are wrapped in scalar subqueries so
    PostgreSQL evaluates them once per query (an InitPlan) rather than once per row,
    and the household comparison can bound an index scan."""
    return f"{column} = (SELECT nvr_current_account()) OR (SELECT nvr_unscoped())"


def _per_row_condition(column: str) -> str:
    """The condition as first written (migrations before 0003 of recordings)."""
    return f"{column} = nvr_current_account() OR nvr_unscoped()"


class CreateTenantFunctions(_PostgresOperation):
    """The SQL functions the policies call."""

    def forwards_sql(self) -> list[str]:
        return [TENANT_FUNCTIONS_SQL]

    def backwards_sql(self) -> list[str]:
        return [DROP_TENANT_FUNCTIONS_SQL]

    def describe(self) -> str:
        return "Create the tenant functions used by row-level security policies"


class EnableRowLevelSecurity(_PostgresOperation):
    """Enable and force RLS on ``table``, keyed on ``column`` = the active household.

    ``readable_if`` adds a SELECT-only policy (for example "the signed-in user's
    own membership rows"); writes are always limited to the active household.
    """

    def __init__(self, table: str, column: str = "account_id", readable_if: str | None = None) -> None:
        self.table = table
        self.column = column
        self.readable_if = readable_if

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"table": self.table, "column": self.column}
        if self.readable_if:
            kwargs["readable_if"] = self.readable_if
        return (self.__class__.__name__, [], kwargs)

    def forwards_sql(self) -> list[str]:
        condition = tenant_condition(self.column)
        statements = [
            f"ALTER TABLE {self.table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {self.table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_isolation ON {self.table} USING ({condition}) WITH CHECK ({condition})",
        ]
        if self.readable_if:
            statements.append(f"CREATE POLICY tenant_read_extra ON {self.table} FOR SELECT USING ({self.readable_if})")
        return statements

    def backwards_sql(self) -> list[str]:
        return [
            f"DROP POLICY IF EXISTS tenant_read_extra ON {self.table}",
            f"DROP POLICY IF EXISTS tenant_isolation ON {self.table}",
            f"ALTER TABLE {self.table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {self.table} DISABLE ROW LEVEL SECURITY",
        ]

    def describe(self) -> str:
        return f"Enable and force row-level security on {self.table}"


class EvaluateTenantPolicyOncePerQuery(_PostgresOperation):
    """Rewrite an existing ``tenant_isolation`` policy with ``tenant_condition`` (see there)."""

    def __init__(self, table: str, column: str = "account_id") -> None:
        self.table = table
        self.column = column

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [], {"table": self.table, "column": self.column})

    def _alter(self, condition: str) -> list[str]:
        return [f"ALTER POLICY tenant_isolation ON {self.table} USING ({condition}) WITH CHECK ({condition})"]

    def forwards_sql(self) -> list[str]:
        return self._alter(tenant_condition(self.column))

    def backwards_sql(self) -> list[str]:
        return self._alter(_per_row_condition(self.column))

    def describe(self) -> str:
        return f"Evaluate the tenant policy of {self.table} once per query"


class SameAccountForeignKey(Operation):
    """Make the database refuse a child row whose household differs from its parent's.

    PostgreSQL: a composite foreign key ``(column, account_id)`` referencing
    ``parent_table (id, account_id)`` (the parent needs a unique constraint on
    those two columns). SQLite cannot add constraints to a table, so it gets
    triggers that do the same check on the child's inserts and updates and on
    the parent's change of household.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str, column: str, parent_table: str) -> None:
        self.table = table
        self.column = column
        self.parent_table = parent_table

    @property
    def name(self) -> str:
        return f"{self.table}_{self.column}_same_account"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__name__,
            [],
            {"table": self.table, "column": self.column, "parent_table": self.parent_table},
        )

    def state_forwards(self, app_label: str, state: Any) -> None:
        """Database-only: the model state does not change."""

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: Any, to_state: Any
    ) -> None:
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE {self.table} ADD CONSTRAINT {self.name} FOREIGN KEY ({self.column}, account_id) "
                f"REFERENCES {self.parent_table} (id, account_id)"
            )
        elif vendor == "sqlite":
            check = (
                f"NEW.{self.column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {self.parent_table} p "
                f"WHERE p.id = NEW.{self.column} AND p.account_id = NEW.account_id)"
            )
            message = f"{self.table}.{self.column} belongs to another account"
            for event, suffix in (("INSERT", "ins"), (f"UPDATE OF {self.column}, account_id", "upd")):
                schema_editor.execute(
                    f"CREATE TRIGGER {self.name}_{suffix} BEFORE {event} ON {self.table} "
                    f"WHEN {check} BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
            # The parent side: moving a parent to another household while children point at it.
            schema_editor.execute(
                f"CREATE TRIGGER {self.name}_parent BEFORE UPDATE OF account_id ON {self.parent_table} "
                f"WHEN EXISTS (SELECT 1 FROM {self.table} c WHERE c.{self.column} = NEW.id "
                f"AND c.account_id != NEW.account_id) BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        else:
            raise NotImplementedError(f"SameAccountForeignKey does not support {vendor}")

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {self.table} DROP CONSTRAINT {self.name}")
        elif schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {self.name}_ins")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {self.name}_upd")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {self.name}_parent")

    def describe(self) -> str:
        return f"Refuse {self.table}.{self.column} pointing into another account"


class DropSameAccountForeignKey(SameAccountForeignKey):
    """The inverse of ``SameAccountForeignKey``, for a migration that rebuilds a table.

    SQLite rebuilds a table to add a NOT NULL column (create, copy, drop, rename),
    and its triggers that name the dropped table then fail: drop them before,
    add them back after (``SameAccountForeignKey``).
    """

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: Any, to_state: Any
    ) -> None:
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: Any, to_state: Any
    ) -> None:
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Drop the same-account check of {self.table}.{self.column} (for a table rebuild)"


class RefuseUpdates(_PostgresOperation):
    """An append-only table: a trigger refuses every UPDATE (rows go only with their household)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [], {"table": self.table})

    def forwards_sql(self) -> list[str]:
        return [
            "CREATE OR REPLACE FUNCTION nvr_refuse_update() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'append-only table: updates are refused'; END $$",
            f"CREATE TRIGGER append_only BEFORE UPDATE ON {self.table} "
            "FOR EACH ROW EXECUTE FUNCTION nvr_refuse_update()",
        ]

    def backwards_sql(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS append_only ON {self.table}"]

    def describe(self) -> str:
        return f"Refuse updates of {self.table}"
