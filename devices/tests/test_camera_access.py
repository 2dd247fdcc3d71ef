"""Per-camera access: an owner limits a member or viewer to some cameras, and the others
do not exist for them anywhere (404, absent from lists and counts).

The ``limited`` fixture: A's member (bob) and viewer (vera) may see only A's "Garden"
camera; A's first camera ("porch") is kept from them. Tests about clips also ask for
``world_with_clips``: the porch's two clips are then what must stay out of sight.
"""

import re
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from accounts.services import member_remove, member_set_role
from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.live import start_live_view
from devices.models import CameraAccess, CameraKind
from devices.selectors import camera_access_of, cameras_list
from devices.services import camera_access_set, camera_create, camera_delete
from devices.tests.conftest import Limited
from recordings.models import Recording
from recordings.retention import storage_usage, storage_usage_seen_by

TIMELINE = reverse("recordings:timeline")


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def access_url(membership: Membership) -> str:
    return reverse("devices:camera-access", kwargs={"membership_id": membership.pk})


def api_access_url(membership: Membership) -> str:
    return reverse("devices-api:camera-access", kwargs={"membership_id": membership.pk})


def camera_routes(camera_id: uuid.UUID) -> list[str]:
    return [
        reverse(name, kwargs={"camera_id": camera_id})
        for name in ("devices:camera", "devices:camera-status", "devices:camera-edit")
    ] + [f"/api/v1/cameras/{camera_id}/"]


def clip_routes(recording_id: uuid.UUID) -> list[str]:
    kwargs = {"recording_id": recording_id}
    names = ("recordings:clip", "recordings:clip-video", "recordings:clip-thumbnail", "recordings:clip-download")
    return [reverse(name, kwargs=kwargs) for name in names] + [f"/api/v1/recordings/{recording_id}/"]


# --- What a limited person sees ------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_the_grid_and_the_cameras_api_list_only_their_cameras(world: World, limited: Limited, role):
    person = world.a.people[role]
    grid = client_for(person).get(reverse("devices:grid")).content.decode()
    assert f'data-live-camera="{limited.garden.pk}"' in grid
    assert str(limited.porch.pk) not in grid
    assert limited.porch.name not in grid
    listed = [camera["id"] for camera in api(person).get("/api/v1/cameras/").json()]
    assert listed == [str(limited.garden.pk)]


@pytest.mark.usefixtures("world_with_clips")
@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_another_cameras_pages_and_clips_are_404s_like_a_missing_one(world: World, limited: Limited, role):
    client = client_for(world.a.people[role])
    kept = camera_routes(limited.porch.pk) + clip_routes(world.a.recordings[0].pk)
    missing = camera_routes(uuid.uuid4()) + clip_routes(uuid.uuid4())
    for path in kept + missing:
        assert client.get(path).status_code == 404, path
    edit = reverse("devices:camera-edit", kwargs={"camera_id": limited.garden.pk})
    for path in camera_routes(limited.garden.pk) + clip_routes(limited.garden_clip.pk):
        # A camera they may see answers like any of their household's: a viewer may not edit it.
        expected = 403 if (role == Role.VIEWER and path == edit) else 200
        assert client.get(path).status_code == expected, path


@pytest.mark.usefixtures("world_with_clips")
def test_a_member_cannot_change_delete_or_rekey_a_camera_kept_from_them(world: World, limited: Limited):
    client = client_for(world.a.member)
    household = {"household": str(world.a.account.pk)}
    porch = limited.porch.pk
    for name in ("devices:camera-edit", "devices:camera-delete", "devices:camera-token-rotate"):
        response = client.post(reverse(name, kwargs={"camera_id": porch}), {"name": "pwned", **household})
        assert response.status_code == 404, name
    recording = world.a.recordings[0].pk
    delete = reverse("recordings:clip-delete", kwargs={"recording_id": recording})
    assert client.post(delete, household).status_code == 404
    assert api(world.a.member).delete(f"/api/v1/recordings/{recording}/").status_code == 404
    assert api(world.a.member).patch(f"/api/v1/cameras/{porch}/", {"name": "x"}, format="json").status_code == 404
    with account_scope(world.a.account.pk):
        names = {camera.name for camera in cameras_list(viewer=world.a.memberships[Role.OWNER])}
        assert limited.porch.name in names
        assert Recording.objects.filter(camera=limited.porch).count() == 2


@pytest.mark.usefixtures("world_with_clips")
def test_the_timeline_shows_only_their_cameras_and_refuses_another(world: World, limited: Limited):
    vera = client_for(world.a.viewer)
    page = vera.get(TIMELINE)
    assert page.status_code == 200
    assert page.context["camera"] == limited.garden
    assert [camera.pk for camera in page.context["cameras"]] == [limited.garden.pk]
    body = page.content.decode()
    assert str(limited.garden_clip.pk) in body
    assert limited.porch.name not in body
    assert all(str(r.pk) not in body for r in world.a.recordings)
    assert vera.get(TIMELINE, {"camera": str(limited.porch.pk)}).status_code == 404


@pytest.mark.usefixtures("world_with_clips")
def test_the_recordings_api_lists_only_their_cameras_clips(world: World, limited: Limited):
    client = api(world.a.viewer)
    results = client.get("/api/v1/recordings/").json()["results"]
    assert [item["id"] for item in results] == [str(limited.garden_clip.pk)]
    assert client.get("/api/v1/recordings/", {"camera": str(limited.porch.pk)}).status_code == 404
    one = client.get("/api/v1/recordings/", {"camera": str(limited.garden.pk), "page_size": "1"}).json()
    assert [item["id"] for item in one["results"]] == [str(limited.garden_clip.pk)]
    assert one["next"] is None
    # The owner still sees every clip.
    assert len(api(world.a.owner).get("/api/v1/recordings/").json()["results"]) == 3


@pytest.mark.usefixtures("world_with_clips")
def test_storage_counts_only_their_cameras_clips(world: World, limited: Limited):
    with account_scope(world.a.account.pk):
        household = storage_usage(world.a.account.pk)
        theirs = storage_usage_seen_by(world.a.memberships[Role.VIEWER])
        owners = storage_usage_seen_by(world.a.memberships[Role.OWNER])
    assert owners == household
    assert theirs.used_bytes == limited.garden_clip.stored_bytes < household.used_bytes
    assert theirs.quota_bytes == household.quota_bytes
    page = client_for(world.a.viewer).get(reverse("recordings:storage"))
    assert page.context["usage"] == theirs


@pytest.mark.usefixtures("world_with_clips")
def test_the_access_history_shows_only_events_about_their_cameras(world: World, limited: Limited):
    alice = client_for(world.a.owner)
    porch_clip = {"recording_id": world.a.recordings[0].pk}
    assert alice.get(reverse("recordings:clip-video", kwargs=porch_clip)).status_code == 200
    assert alice.get(reverse("recordings:clip-thumbnail", kwargs=porch_clip)).status_code == 200
    vera = client_for(world.a.viewer)
    garden_clip = {"recording_id": limited.garden_clip.pk}
    assert vera.get(reverse("recordings:clip-video", kwargs=garden_clip)).status_code == 200
    everything = {e["object_id"] for e in api(world.a.owner).get("/api/v1/access-events/").json()["results"]}
    assert {str(world.a.recordings[0].pk), str(limited.porch.pk)} <= everything
    for client in (api(world.a.viewer), api(world.a.member)):
        shown = [e["object_id"] for e in client.get("/api/v1/access-events/").json()["results"]]
        assert shown == [str(limited.garden_clip.pk)]
    page = vera.get(reverse("accounts:access-history")).content.decode()
    assert limited.porch.name not in page
    assert world.a.events[0].object_label not in page
    assert limited.garden.name in page


def test_a_live_view_of_a_camera_kept_from_them_is_refused(world: World, limited: Limited):
    def start(camera_id: uuid.UUID) -> object:
        return start_live_view(
            user=world.a.viewer,
            session_key="k",
            active_account=str(world.a.account.pk),
            camera_id=camera_id,
            ip=None,
            user_agent="",
        )

    assert start(limited.porch.pk) is None
    assert start(limited.garden.pk) is not None


# --- Who is limited, and how it changes ------------------------------------------------------
def test_an_unlimited_member_sees_every_camera_including_new_ones(world: World, limited: Limited):
    with account_scope(world.a.account.pk):
        camera_access_set(
            actor=world.a.memberships[Role.OWNER],
            membership=world.a.memberships[Role.VIEWER],
            limited=False,
            cameras=[],
        )
        shed, _ = camera_create(actor=world.a.memberships[Role.OWNER], name="Shed", kind=CameraKind.PUSH)
        assert camera_access_of(membership=world.a.memberships[Role.VIEWER]) == (False, [])
        assert not CameraAccess.objects.filter(membership=world.a.memberships[Role.VIEWER]).exists()
    listed = {camera["id"] for camera in api(world.a.viewer).get("/api/v1/cameras/").json()}
    assert listed == {str(limited.porch.pk), str(limited.garden.pk), str(shed.pk)}
    # Bob is still limited: the new camera is not his.
    assert [c["id"] for c in api(world.a.member).get("/api/v1/cameras/").json()] == [str(limited.garden.pk)]


@pytest.mark.usefixtures("world_with_clips")
def test_limited_to_no_camera_sees_none(world: World, limited: Limited):
    with account_scope(world.a.account.pk):
        camera_access_set(
            actor=world.a.memberships[Role.OWNER], membership=world.a.memberships[Role.VIEWER], limited=True, cameras=[]
        )
    assert api(world.a.viewer).get("/api/v1/cameras/").json() == []
    assert api(world.a.viewer).get("/api/v1/recordings/").json()["results"] == []
    assert client_for(world.a.viewer).get(TIMELINE).context["camera"] is None


def test_a_limited_member_who_adds_a_camera_sees_it(world: World, limited: Limited):
    response = client_for(world.a.member).post(
        reverse("devices:camera-add"), {"name": "Shed", "kind": "push", "household": str(world.a.account.pk)}
    )
    assert response.status_code == 200  # the token page
    names = [camera["name"] for camera in api(world.a.member).get("/api/v1/cameras/").json()]
    assert names == ["Garden", "Shed"]
    assert [c["name"] for c in api(world.a.viewer).get("/api/v1/cameras/").json()] == ["Garden"]


def test_owners_are_never_limited(world: World, limited: Limited):
    with account_scope(world.a.account.pk):
        owner = world.a.memberships[Role.OWNER]
        with pytest.raises(ValidationError):
            camera_access_set(actor=owner, membership=owner, limited=True, cameras=[limited.garden])
        # Promoting a limited member to owner lifts the limit for good (a demotion does not restore it).
        bob = Membership.objects.get(pk=world.a.memberships[Role.MEMBER].pk)
        member_set_role(actor=owner, membership=bob, role=Role.OWNER)
        member_set_role(actor=owner, membership=bob, role=Role.MEMBER)
        bob.refresh_from_db()
        assert not bob.sees_some_cameras_only
    assert len(api(world.a.member).get("/api/v1/cameras/").json()) == 2


def test_only_owners_choose_who_sees_which_camera(world: World, limited: Limited):
    vera = world.a.memberships[Role.VIEWER]
    form = {"limited": "on", "cameras": [str(limited.porch.pk)], "household": str(world.a.account.pk)}
    for person in (world.a.member, world.a.viewer):
        assert client_for(person).get(access_url(vera)).status_code == 403
        assert client_for(person).post(access_url(vera), form).status_code == 403
        assert api(person).get(api_access_url(vera)).status_code == 403
        assert api(person).put(api_access_url(vera), {"limited": False}, format="json").status_code == 403
    with account_scope(world.a.account.pk):
        with pytest.raises(PermissionDenied):
            camera_access_set(actor=world.a.memberships[Role.MEMBER], membership=vera, limited=False, cameras=[])
        assert camera_access_of(membership=Membership.objects.get(pk=vera.pk)) == (True, [limited.garden.pk])


def test_the_owner_sets_it_on_the_member_page_and_the_members_page_links_it(world: World, limited: Limited):
    alice = client_for(world.a.owner)
    vera = world.a.memberships[Role.VIEWER]
    members = alice.get(reverse("accounts:members")).content.decode()
    assert access_url(vera) in members
    assert access_url(world.a.memberships[Role.OWNER]) not in members
    assert (
        access_url(vera)
        in alice.get(reverse("accounts:member-edit", kwargs={"membership_id": vera.pk})).content.decode()
    )
    page = alice.get(access_url(vera))
    assert page.status_code == 200
    assert page.context["form"].initial == {"limited": True, "cameras": [str(limited.garden.pk)]}
    form = {"limited": "on", "cameras": [str(limited.porch.pk)], "household": str(world.a.account.pk)}
    assert alice.post(access_url(vera), form).status_code == 302
    assert [c["id"] for c in api(world.a.viewer).get("/api/v1/cameras/").json()] == [str(limited.porch.pk)]
    assert alice.post(access_url(vera), {"household": str(world.a.account.pk)}).status_code == 302
    assert len(api(world.a.viewer).get("/api/v1/cameras/").json()) == 2
    # A camera that is not the household's is no choice at all.
    bad = {"limited": "on", "cameras": [str(world.b.cameras[0].pk)], "household": str(world.a.account.pk)}
    assert alice.post(access_url(vera), bad).status_code == 400
    # An owner's page says owners see everything, and saving it is refused.
    owner = world.a.memberships[Role.OWNER]
    assert b"Owners always see every camera" in alice.get(access_url(owner)).content
    assert alice.post(access_url(owner), form).status_code == 400


def test_the_api_reads_and_sets_it(world: World, limited: Limited):
    alice = api(world.a.owner)
    vera = world.a.memberships[Role.VIEWER]
    body = alice.get(api_access_url(vera)).json()
    assert body == {"membership": str(vera.pk), "limited": True, "cameras": [str(limited.garden.pk)]}
    both = sorted([str(limited.porch.pk), str(limited.garden.pk)])
    response = alice.put(api_access_url(vera), {"limited": True, "cameras": both}, format="json")
    assert response.status_code == 200
    assert response.json()["cameras"] == both
    # Another household's camera answers exactly like one that does not exist.
    answers = set()
    for camera_id in (world.b.cameras[0].pk, uuid.uuid4()):
        response = alice.put(api_access_url(vera), {"limited": True, "cameras": [str(camera_id)]}, format="json")
        assert response.status_code == 400
        answers.add(response.content.decode().replace(str(camera_id), "<id>"))
    assert len(answers) == 1
    assert alice.get(api_access_url(vera)).json()["cameras"] == both
    member = alice.get(f"/api/v1/members/{vera.pk}/").json()
    assert member["camera_access_limited"] is True


def test_the_database_refuses_access_to_another_households_camera(world: World, limited: Limited):
    with pytest.raises(IntegrityError), account_scope(world.a.account.pk), transaction.atomic():
        CameraAccess.objects.create(
            account_id=world.a.account.pk, membership=world.a.memberships[Role.VIEWER], camera=world.b.cameras[0]
        )


def test_deleting_the_camera_or_the_member_removes_their_access_rows(world: World, limited: Limited):
    with account_scope(world.a.account.pk):
        owner = world.a.memberships[Role.OWNER]
        camera_delete(actor=owner, camera=limited.garden)
        assert not CameraAccess.objects.exists()
        # Still limited, now to nothing: the porch did not become theirs.
        assert camera_access_of(membership=Membership.objects.get(pk=world.a.memberships[Role.VIEWER].pk)) == (
            True,
            [],
        )
    assert api(world.a.viewer).get("/api/v1/cameras/").json() == []
    with account_scope(world.a.account.pk):
        camera_access_set(
            actor=owner, membership=world.a.memberships[Role.VIEWER], limited=True, cameras=[limited.porch]
        )
        member_remove(actor=owner, membership=Membership.objects.get(pk=world.a.memberships[Role.VIEWER].pk))
        assert not CameraAccess.objects.exists()


@pytest.mark.usefixtures("world_with_clips")
def test_a_limited_list_costs_no_extra_query(world: World, limited: Limited):
    """The limit is a subquery of the same statement: the recordings list runs as many
    statements for a limited viewer as for an unlimited one (pinned in test_api_recordings)."""
    vera = api(world.a.viewer)
    vera.get("/api/v1/recordings/")  # warm the session

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert vera.get("/api/v1/recordings/", {"page_size": "10"}).status_code == 200
        return len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]])

    limited_count = statements()
    with account_scope(world.a.account.pk):
        camera_access_set(
            actor=world.a.memberships[Role.OWNER],
            membership=world.a.memberships[Role.VIEWER],
            limited=False,
            cameras=[],
        )
    assert limited_count == statements()


@pytest.mark.usefixtures("world_with_clips")
@pytest.mark.postgres
def test_a_limited_page_is_still_read_from_the_index_in_order(world: World, limited: Limited):
    """PostgreSQL: the limit adds a probe of the access rows' unique index per clip read;
    the page is still walked in order on a recordings index, never sorted."""
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN of the PostgreSQL plan")
    from recordings.selectors import Position, keyset_query, recordings_filtered

    with account_scope(world.a.account.pk):
        with connection.cursor() as cursor:
            # A tiny table would be scanned and sorted anyway: ask whether indexes can do it.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
        vera = Membership.objects.get(pk=world.a.memberships[Role.VIEWER].pk)
        deep = Position(started_at=timezone.now(), id=uuid.uuid4())
        plans = [
            keyset_query(queryset, page_size=50, after=after).explain()
            for queryset in (
                recordings_filtered(viewer=vera),
                recordings_filtered(viewer=vera, camera_id=limited.garden.pk),
            )
            for after in (None, deep)
        ]
    for plan in plans:
        assert "Sort" not in plan, plan
        assert re.search(r"Limit .*\n(?:.*\n)*?\s*->  Nested Loop( Semi Join)? .*\n\s*->  Index (Only )?Scan", plan), (
            plan
        )
        assert "using camera_access_once_per_membership" in plan, plan
