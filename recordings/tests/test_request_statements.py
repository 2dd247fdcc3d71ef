"""What a timeline API request costs besides its own data queries, pinned by kind.

Outside a test transaction (``transaction=True``), as in production: the session (none
when sessions are read from the shared Redis cache, ``cached_db``), the user, one
transaction (BEGIN and COMMIT), on PostgreSQL one statement setting the household's
scope, and the user's memberships (read in the session's household). Before issue 11
it was 9: the memberships and the data each had their own transaction and scope
statement, and the session was always read from the database. ``bench/timeline.py`` measures
the same on a million recordings and compares the request with a bare view.
"""

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import World, client_for
from nvr.testing import statement_kind

pytestmark = pytest.mark.django_db(transaction=True)


def statements(client: Any, url: str) -> dict[str, int]:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    counts: dict[str, int] = {}
    for query in context.captured_queries:
        kind = statement_kind(query["sql"])
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_a_timeline_api_request_sends_at_most_six_statements_besides_its_data(world: World):
    client = client_for(world.a.owner)
    url = f"/api/v1/recordings/?camera={world.a.cameras[0].pk}&page_size=50"
    client.get(url)  # the first request of a session remembers its household
    counts = statements(client, url)
    data = counts.pop("data")
    expected = {"session": 1, "user": 1, "transaction": 2, "memberships": 1}
    if connection.vendor == "postgresql":
        expected["tenancy_settings"] = 1
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db":
        del expected["session"]  # read from the shared cache
    assert counts == expected
    assert data == 3  # the camera, the page, its motion events
