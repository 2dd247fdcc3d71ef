"""Saving a picture of live video: the page makes the JPEG; the server writes who did to the
household's access history first (POST /cameras/<id>/snapshot/)."""

import pytest
from django.urls import reverse

from accounts.models import AccessEvent, AccessKind
from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.tests.conftest import Limited


def snapshots(household) -> list[tuple[str, str]]:
    with account_scope(household.account.pk):
        rows = AccessEvent.objects.filter(kind=AccessKind.SNAPSHOT).order_by("created_at")
        return [(row.actor_label, str(row.object_id)) for row in rows]


@pytest.mark.parametrize("role", ["owner", "member", "viewer"])
def test_anyone_who_may_watch_records_a_snapshot_in_their_households_history(world: World, role):
    camera = world.a.cameras[0]
    person = getattr(world.a, role)
    response = client_for(person).post(
        reverse("devices:camera-snapshot", args=[camera.pk]), {"household": str(world.a.account.pk)}
    )
    assert response.status_code == 200
    assert response.json() == {"recorded": True}
    assert snapshots(world.a) == [(person.display_name, str(camera.pk))]
    assert snapshots(world.b) == []


def test_another_households_camera_is_a_404_and_writes_nothing(world: World):
    response = client_for(world.a.owner).post(
        reverse("devices:camera-snapshot", args=[world.b.cameras[0].pk]), {"household": str(world.a.account.pk)}
    )
    assert response.status_code == 404
    assert snapshots(world.a) == []
    assert snapshots(world.b) == []


def test_a_camera_kept_from_a_limited_viewer_is_a_404(world: World, limited: Limited):
    client = client_for(world.a.viewer)
    url = reverse("devices:camera-snapshot", args=[limited.porch.pk])
    assert client.post(url, {"household": str(world.a.account.pk)}).status_code == 404
    garden = reverse("devices:camera-snapshot", args=[limited.garden.pk])
    assert client.post(garden, {"household": str(world.a.account.pk)}).status_code == 200
    assert [camera for _who, camera in snapshots(world.a)] == [str(limited.garden.pk)]


def test_only_a_post_records(world: World):
    url = reverse("devices:camera-snapshot", args=[world.a.cameras[0].pk])
    assert client_for(world.a.owner).get(url).status_code == 405
    assert snapshots(world.a) == []
