"""``migrate`` as the table-owner role, then grant the application role its rights.

With ``DATABASE_OWNER_URL`` unset (SQLite, or a single-role PostgreSQL for
development) this is Django's own migrate.
"""

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate

from accounts.db_roles import grant_app_role, owner_connection


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        with owner_connection():
            super().handle(*args, **options)
            grant_app_role()
