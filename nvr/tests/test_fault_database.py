"""Fault: the database connection drops under a running site (issue 16).

A real daphne process on the test database, with DEBUG off as in production (with DEBUG on,
Django shows its debug page instead); the test terminates that process's
PostgreSQL backends with ``pg_terminate_backend``, only in this test database and
only the application role's (the role may signal its own backends; the test's own
connection is spared). Requests caught by it answer 503 with a readable message,
and the next ones succeed: the process recovers without a restart.
"""

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from conftest import World, client_for
from nvr.testing import LiveServer, daphne_server

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PAGE = "/"
API = "/api/v1/household/"


def get(server: LiveServer, path: str, cookie: str) -> tuple[int, dict[str, str], bytes]:
    parts = server.http.removeprefix("http://").split(":")
    client = http.client.HTTPConnection(parts[0], int(parts[1]), timeout=20)
    try:
        client.request("GET", path, headers={"Cookie": cookie})
        response = client.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        client.close()


def connect(role: str) -> psycopg.Connection[Any]:
    """A connection of our own to the test database, as ``role`` ("app" or "owner")."""
    params = connection.settings_dict
    owner = settings.DATABASE_OWNER or {}
    user, password = (params["USER"], params["PASSWORD"]) if role == "app" else (owner["USER"], owner["PASSWORD"])
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        dbname=params["NAME"],
        user=user,
        password=password or None,
        autocommit=True,
    )


def site_backends(app: psycopg.Connection[Any], *, waiting: bool) -> list[int]:
    """The site's backends in this test database: the app role's, not ours nor the test's own."""
    connection.ensure_connection()
    mine = connection.connection.info.backend_pid
    rows = app.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND usename = current_user"
        " AND pid <> pg_backend_pid() AND pid <> %s AND (NOT %s OR wait_event_type = 'Lock')",
        (mine, waiting),
    ).fetchall()
    return [pid for (pid,) in rows]


def terminate(app: psycopg.Connection[Any], pids: list[int]) -> None:
    for pid in pids:
        app.execute("SELECT pg_terminate_backend(%s)", (pid,))


@contextmanager
def users_table_locked() -> Iterator[None]:
    """Every signed-in request waits on its user's row until the block ends: the request is
    in flight, on its own backend, when the test terminates it."""
    with connect("owner") as owner:
        owner.execute("BEGIN")
        owner.execute("LOCK TABLE accounts_user IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            owner.execute("ROLLBACK")


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_terminate_backend); CI sets DATABASE_URL")


def killed_mid_request(server: LiveServer, path: str, cookie: str) -> tuple[int, dict[str, str], bytes]:
    """The answer to a request whose database backend is terminated while it waits."""
    answer: list[tuple[int, dict[str, str], bytes]] = []
    with connect("app") as app, users_table_locked():
        request = threading.Thread(target=lambda: answer.append(get(server, path, cookie)))
        request.start()
        for _ in range(200):
            waiting = site_backends(app, waiting=True)
            if waiting:
                break
            request.join(0.05)
        assert waiting, "the request never waited on the lock"
        terminate(app, waiting)
        request.join(20)
    assert answer, "no answer"
    return answer[0]


@pytest.mark.usefixtures("postgres_only")
def test_requests_whose_connection_drops_answer_503_and_the_next_ones_succeed(world: World):
    cookie = f"sessionid={client_for(world.a.owner).cookies['sessionid'].value}"
    with daphne_server({"DEBUG": "0"}) as server:
        assert get(server, PAGE, cookie)[0] == 200
        assert get(server, API, cookie)[0] == 200

        status, headers, body = killed_mid_request(server, PAGE, cookie)
        assert status == 503
        assert headers["retry-after"] == "5"
        assert b'data-testid="error-503"' in body
        assert b"The site is unavailable for a moment" in body
        assert b"Traceback" not in body

        status, headers, body = killed_mid_request(server, API, cookie)
        assert status == 503
        assert headers["content-type"] == "application/json"
        assert "The site is unavailable for a moment" in json.loads(body)["detail"]

        # The same process, no restart: the next requests find a new connection.
        page = get(server, PAGE, cookie)
        assert page[0] == 200
        assert world.a.account.name.encode() in page[2]
        assert json.loads(get(server, API, cookie)[2])["name"] == world.a.account.name
        # And none of the requests left a connection open behind it (no persistent connections).
        with connect("app") as app:
            assert site_backends(app, waiting=False) == []
