"""The main pages and their API lists: their data queries, pinned, and the same however
much the household has (no query per camera or per event). The statements around them
(session, user, scope, memberships) are pinned in recordings/tests/test_request_statements.py.
"""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.audit import record_access
from accounts.models import AccessKind
from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.models import Camera
from devices.tests.conftest import add_camera
from nvr.testing import statement_kind
from recordings.tests.factories import make_recording

# route -> data queries (besides session, user, scope and memberships).
PINNED = {
    "devices:grid": 1,  # the cameras
    "devices-api:camera-list": 1,  # the cameras, with their recording settings
    "accounts:access-history": 2,  # the events; the support log
    "api:accessevent-list": 1,
    "recordings:events": 2,  # the cameras (the filter's choices); the page of events with clips and cameras
    "recordings-api:event-list": 1,  # the page of events with their clips and cameras
}


def data_queries(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200, path
    return sum(statement_kind(q["sql"]) == "data" for q in context.captured_queries)


def grow(world: World) -> None:
    """Five more cameras and twenty more access events in A."""
    cameras = [add_camera(world.a, f"Extra {n}").camera for n in range(5)]
    with account_scope(world.a.account.pk):
        for n in range(20):
            camera = cameras[n % len(cameras)]
            record_access(
                account_id=world.a.account.pk,
                actor=world.a.owner,
                membership=world.a.memberships["owner"],
                kind=AccessKind.LIVE_START,
                object_type="camera",
                object_id=camera.pk,
                object_label=camera.name,
            )


@pytest.mark.parametrize("name", sorted(PINNED))
def test_main_pages_and_lists_have_a_fixed_number_of_data_queries(name: str, world: World):
    client = client_for(world.a.owner)
    path = reverse(name)
    client.get(path)  # the session's first request settles its household
    before = data_queries(client, path)
    grow(world)
    assert data_queries(client, path) == before == PINNED[name]


# The all-cameras timeline (?all=1): the cameras; the storage used (2); the day's clips of all of
# them; their motion. Not one query per camera.
ALL_CAMERAS_TIMELINE = 5


def test_the_all_cameras_timeline_has_a_fixed_number_of_data_queries(world: World):
    client = client_for(world.a.owner)
    path = reverse("recordings:timeline") + "?all=1"
    client.get(path)
    before = data_queries(client, path)
    grow(world)
    with account_scope(world.a.account.pk):
        for camera in Camera.objects.all():
            make_recording(camera)
    assert data_queries(client, path) == before == ALL_CAMERAS_TIMELINE
