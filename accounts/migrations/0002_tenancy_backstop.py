"""Database backstop for tenancy: row-level security and same-account integrity.

PostgreSQL only for RLS (no-ops on SQLite); SameAccountForeignKey also adds
triggers on SQLite.
"""

from django.db import migrations

from accounts.migration_ops import CreateTenantFunctions, EnableRowLevelSecurity, SameAccountForeignKey


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        CreateTenantFunctions(),
        # A household row is visible inside its own scope, and to a signed-in
        # user who is one of its members (to list their households).
        EnableRowLevelSecurity(
            table="accounts_account",
            column="id",
            readable_if=(
                "EXISTS (SELECT 1 FROM accounts_membership m "
                "WHERE m.account_id = accounts_account.id AND m.user_id = nvr_current_user())"
            ),
        ),
        # Memberships: the household's, plus (read-only) the signed-in user's own.
        EnableRowLevelSecurity(table="accounts_membership", readable_if="user_id = nvr_current_user()"),
        EnableRowLevelSecurity(table="accounts_accessevent"),
        # Invitations: the household's, plus (read-only) those addressed to the
        # signed-in user's verified email.
        EnableRowLevelSecurity(table="accounts_invitation", readable_if="email = nvr_current_email()"),
        SameAccountForeignKey(table="accounts_accessevent", column="membership_id", parent_table="accounts_membership"),
    ]
