"""PostgreSQL roles: the owner runs migrations, the application role runs the site.

The application role must neither own the tables nor have BYPASSRLS, or row-level
security would not apply to it. ``owner_connection()`` swaps the default
connection to the owner's credentials for the length of a block (migrations,
test database creation) and back.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def owner_connection() -> Iterator[None]:
    owner = settings.DATABASE_OWNER
    if owner is None or connection.vendor != "postgresql" or connection.settings_dict["USER"] == owner["USER"]:
        yield
        return
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=owner["USER"], PASSWORD=owner.get("PASSWORD", ""))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grant_app_role(*, extra: str = "") -> None:
    """Let the application role use every table (rows still filtered by RLS).

    ``extra`` adds privileges (the test suite adds TRUNCATE to reset tables
    between tests; production never grants it: TRUNCATE ignores RLS).
    """
    role = settings.DATABASE_APP_ROLE
    if connection.vendor != "postgresql" or not role or settings.DATABASE_OWNER is None:
        return
    quoted = connection.ops.quote_name(role)
    privileges = "SELECT, INSERT, UPDATE, DELETE" + (f", {extra}" if extra else "")
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT {privileges} ON ALL TABLES IN SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
