"""The recordings API: filters, keyset pages, a pinned query count, detail and delete."""

import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.models import Camera, CameraKind
from devices.services import camera_create
from nvr.testing import session_reads
from recordings import files
from recordings.models import MotionEvent, Recording, RecordingStatus
from recordings.tests.factories import make_recording

LIST = "/api/v1/recordings/"


def detail(recording: Recording) -> str:
    return reverse("recordings-api:recording-detail", kwargs={"pk": recording.pk})


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()["results"]]


def bulk_recordings(
    camera: Camera, count: int, *, at: datetime, step: timedelta, motion: bool = True
) -> list[Recording]:
    """Rows only (the list reads no files): ``count`` clips from ``at`` going back by ``step``."""
    rows = [
        Recording(
            account_id=camera.account_id,
            camera=camera,
            started_at=at - step * i,
            ended_at=at - step * i + timedelta(seconds=2),
            size_bytes=1000,
            sha256="0" * 64,
            status=RecordingStatus.READY,
            has_motion=motion,
        )
        for i in range(count)
    ]
    with account_scope(camera.account_id):
        Recording.objects.bulk_create(rows)
        if motion:
            MotionEvent.objects.bulk_create(
                MotionEvent(
                    account_id=camera.account_id,
                    recording=row,
                    started_at=row.started_at,
                    ended_at=row.ended_at,
                    score=0.5,
                )
                for row in rows
            )
    return rows


def test_it_lists_the_households_recordings_newest_first(vera: Client, world: World):
    response = vera.get(LIST)
    assert response.status_code == 200
    assert ids(response) == [str(r.pk) for r in world.a.recordings]
    assert response.json()["next"] is None
    assert response.json()["previous"] is None
    assert response["Cache-Control"] == "private, no-store"
    body = response.content.decode()
    assert not [secret for secret in world.b.ids() if secret in body]


def test_an_item_has_everything_a_player_needs(vera: Client, world: World):
    ready = world.a.recordings[0]
    item = vera.get(LIST).json()["results"][0]
    assert item["id"] == str(ready.pk)
    assert item["camera"] == {"id": str(world.a.cameras[0].pk), "name": world.a.cameras[0].name}
    assert item["status"] == "ready"
    assert item["duration_s"] == 2.0
    assert (item["width"], item["height"], item["fps"], item["codec"]) == (320, 180, 10.0, "h264")
    assert item["has_motion"] is True
    assert item["motion_score"] == 0.8
    assert len(item["motion_events"]) == 1
    assert set(item["motion_events"][0]) == {"started_at", "ended_at", "score"}
    assert item["video_url"] == f"/recordings/{ready.pk}/video.mp4"
    assert item["thumbnail_url"] == f"/recordings/{ready.pk}/thumbnail.jpg"
    assert item["download_url"] == f"/recordings/{ready.pk}/download"
    assert {"started_at", "ended_at", "failure_reason", "size_bytes"} <= set(item)
    processing = vera.get(LIST).json()["results"][1]
    assert processing["status"] == "processing"
    assert processing["thumbnail_url"] is None


def test_list_items_are_exactly_what_the_detail_shows(vera: Client, world: World):
    """The list builds its items without DRF's serializer (for speed): same shape, same values."""
    with account_scope(world.a.account.pk):
        Recording.objects.filter(pk=world.a.recordings[1].pk).update(
            status=RecordingStatus.FAILED, failure_reason="not a video"
        )
    bulk_recordings(world.a.cameras[0], 2, at=timezone.now() - timedelta(days=1), step=timedelta(minutes=1))
    items = vera.get(LIST).json()["results"]
    assert len(items) == 4
    for item in items:
        assert vera.get(f"{LIST}{item['id']}/").json() == item


def test_it_filters_by_camera_time_motion_and_status(vera: Client, world: World):
    with account_scope(world.a.account.pk):
        garden, _token = camera_create(actor=world.a.memberships["owner"], name="Garden", kind=CameraKind.PUSH)
        quiet = make_recording(garden, started_at=timezone.now() - timedelta(hours=3), motion=False)
    ready, processing = world.a.recordings
    assert ids(vera.get(LIST, {"camera": str(garden.pk)})) == [str(quiet.pk)]
    assert ids(vera.get(LIST, {"camera": str(world.a.cameras[0].pk)})) == [str(ready.pk), str(processing.pk)]
    assert ids(vera.get(LIST, {"motion": "true"})) == [str(ready.pk)]
    assert ids(vera.get(LIST, {"motion": "false"})) == [str(processing.pk), str(quiet.pk)]
    assert ids(vera.get(LIST, {"status": "processing"})) == [str(processing.pk)]
    window = {
        "start": (processing.started_at - timedelta(minutes=1)).isoformat(),
        "end": (processing.started_at + timedelta(minutes=1)).isoformat(),
    }
    assert ids(vera.get(LIST, window)) == [str(processing.pk)]
    assert ids(vera.get(LIST, {"start": ready.started_at.isoformat()})) == [str(ready.pk)]
    assert ids(vera.get(LIST, {"end": ready.started_at.isoformat()})) == [str(processing.pk), str(quiet.pk)]


def test_another_households_camera_is_a_404(vera: Client, world: World):
    response = vera.get(LIST, {"camera": str(world.b.cameras[0].pk)})
    assert response.status_code == 404
    assert str(world.b.recordings[0].pk) not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"camera": "not-a-uuid"}, "camera"),
        ({"start": "yesterday"}, "start"),
        ({"end": "2026-13-45T00:00"}, "end"),
        ({"start": "2026-11-30T10:00:00Z", "end": "2026-11-30T09:00:00Z"}, "end"),
        ({"motion": "maybe"}, "motion"),
        ({"status": "deleted"}, "status"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_filters_are_a_readable_400(vera: Client, world: World, params, field):
    response = vera.get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()
    assert all(isinstance(message, str) and message for message in response.json()[field])


def walk(client: Client, url: str, key: str) -> list[str]:
    seen: list[str] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += ids(response)
        url = response.json()[key]
    return seen


def test_cursor_pages_have_no_gaps_or_duplicates_across_equal_start_times(vera: Client, world: World):
    """Seven clips start at the same instant: pages of 3 still visit each clip exactly once."""
    at = timezone.now() - timedelta(days=1)
    camera = world.a.cameras[0]
    bulk_recordings(camera, 7, at=at, step=timedelta(0))
    bulk_recordings(camera, 5, at=at - timedelta(minutes=1), step=timedelta(seconds=30))
    with account_scope(world.a.account.pk):
        expected = [str(pk) for pk in Recording.objects.order_by("-started_at", "-id").values_list("pk", flat=True)]
    forward = walk(vera, f"{LIST}?page_size=3", "next")
    assert forward == expected
    assert len(set(forward)) == len(expected) == 14
    # ... and back again from the last page, through the previous links.
    pages = []
    url: str | None = f"{LIST}?page_size=3"
    while url:
        page = vera.get(url).json()
        pages.append(page)
        url = page["next"]
    backward = walk(vera, pages[-1]["previous"], "previous")
    assert backward == [item for page in reversed(pages[:-1]) for item in ids_of(page)]
    assert vera.get(pages[-1]["previous"]).json()["results"] == pages[-2]["results"]
    assert vera.get(pages[1]["previous"]).json()["previous"] is None  # back at the first page


def test_the_next_link_keeps_the_filters(vera: Client, world: World):
    bulk_recordings(world.a.cameras[0], 4, at=timezone.now() - timedelta(days=2), step=timedelta(minutes=1))
    first = vera.get(LIST, {"motion": "true", "page_size": "2"}).json()
    query = parse_qs(urlsplit(first["next"]).query)
    assert query["motion"] == ["true"]
    assert query["page_size"] == ["2"]
    second = vera.get(first["next"]).json()
    assert all(item["has_motion"] for item in second["results"])
    assert not set(ids_of(first)) & set(ids_of(second))


def ids_of(page: dict) -> list[str]:
    return [item["id"] for item in page["results"]]


def test_a_tampered_cursor_is_a_400(vera: Client, world: World):
    bulk_recordings(world.a.cameras[0], 3, at=timezone.now() - timedelta(days=2), step=timedelta(minutes=1))
    cursor = parse_qs(urlsplit(vera.get(LIST, {"page_size": "1"}).json()["next"]).query)["cursor"][0]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    response = vera.get(LIST, {"cursor": tampered})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_cursor_from_another_household_is_a_400(world: World):
    """Signed for B's household: refused in A's, even though the signature is genuine."""
    charlie = client_for(world.b.owner)
    cursor = parse_qs(urlsplit(charlie.get(LIST, {"page_size": "1"}).json()["next"]).query)["cursor"][0]
    response = client_for(world.a.owner).get(LIST, {"cursor": cursor})
    assert response.status_code == 400
    assert str(world.b.recordings[1].pk) not in response.content.decode()


@pytest.mark.parametrize("page_size", [1, 50])
@pytest.mark.parametrize("by_camera", [True, False])
def test_the_query_count_does_not_grow_with_the_page_size(vera: Client, world: World, page_size, by_camera):
    """Pinned: 3 queries of the list's own (4 allowed), whatever the page size."""
    with account_scope(world.a.account.pk):
        garden, _ = camera_create(actor=world.a.memberships["owner"], name="Garden", kind=CameraKind.PUSH)
    at = timezone.now() - timedelta(days=1)
    bulk_recordings(world.a.cameras[0], 50, at=at, step=timedelta(minutes=2))
    bulk_recordings(garden, 50, at=at - timedelta(minutes=1), step=timedelta(minutes=2))
    params = {"page_size": str(page_size)} | ({"camera": str(world.a.cameras[0].pk)} if by_camera else {})
    vera.get(LIST)  # warm the session
    with CaptureQueriesContext(connection) as everything:
        response = vera.get(LIST, params)
    results = response.json()["results"]
    assert len(results) == page_size
    assert all(len(item["motion_events"]) == int(item["has_motion"]) for item in results)
    names = {item["camera"]["name"] for item in results}
    both = {world.a.cameras[0].name, "Garden"}
    assert names == ({world.a.cameras[0].name} if by_camera or page_size == 1 else both)
    ours = [q["sql"] for q in everything.captured_queries if "recordings_" in q["sql"] or "devices_camera" in q["sql"]]
    # The page, its motion events, and the cameras (the filter's lookup, or the page's cameras).
    assert len(ours) == 3, ours
    # Session, user and memberships, then ours; on PostgreSQL also the scope's settings: set
    # once, and (inside the test's transaction only) read before and put back after.
    expected = {"sqlite": 5, "postgresql": 8}[connection.vendor] + session_reads()
    statements = [q["sql"] for q in everything.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == expected, [q[:90] for q in statements]


@pytest.mark.postgres
def test_the_page_query_is_served_by_the_indexes(world: World):
    """PostgreSQL: the first and a deep page use the (account[, camera], started_at, id) indexes."""
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN of the PostgreSQL plan")
    from recordings.selectors import Position, keyset_query, recordings_filtered

    with account_scope(world.a.account.pk):
        with connection.cursor() as cursor:
            # A tiny table would be scanned and sorted anyway: ask whether an index can
            # deliver the page in order (a Sort node would remain if none could).
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
        deep = Position(started_at=timezone.now(), id=uuid.uuid4())
        vera = world.a.memberships["viewer"]
        plans = {}
        for label, queryset in {
            "all": recordings_filtered(viewer=vera),
            "camera": recordings_filtered(viewer=vera, camera_id=world.a.cameras[0].pk),
        }.items():
            plans[label] = keyset_query(queryset, page_size=50).explain()
            plans[f"{label} deep"] = keyset_query(queryset, page_size=50, after=deep).explain()
            plans[f"{label} previous"] = keyset_query(queryset, page_size=50, before=deep).explain()
    # (The tenant policy's functions are InitPlans, evaluated once, listed under the Limit.)
    walk_index = re.compile(
        r"Limit .*\n(?:\s*InitPlan .*\n\s*->  Result .*\n)*"
        r"\s*->  Index (Only )?Scan (Backward )?using recording_(camera|account)_time"
    )
    for label, plan in plans.items():
        # The page's ids: a Limit straight on one of our indexes, read in order (no Sort in between).
        # With a camera either index delivers the order; the statistics choose (bench/timeline
        # measures it at a million rows).
        assert walk_index.search(plan), f"{label}: {plan}"
        if label.endswith("deep"):
            assert re.search(r"Index Cond: [^\n]*started_at <=", plan), f"{label}: the keyset bound is not in the index"
        if label.endswith("previous"):
            assert re.search(r"Index Cond: [^\n]*started_at >=", plan), f"{label}: the keyset bound is not in the index"


# --- Detail and delete ---------------------------------------------------------------
def test_detail_shows_one_recording(vera: Client, world: World):
    response = vera.get(detail(world.a.recordings[0]))
    assert response.status_code == 200
    assert response.json()["id"] == str(world.a.recordings[0].pk)
    assert vera.get(detail(world.b.recordings[0])).status_code == 404


def test_a_viewer_cannot_delete_a_recording(vera: Client, world: World):
    recording = world.a.recordings[0]
    response = vera.delete(detail(recording))
    assert response.status_code == 403
    assert "owners and members" in response.json()["detail"].lower()
    with account_scope(world.a.account.pk):
        assert Recording.objects.filter(pk=recording.pk).exists()
    assert files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=files.CLIP)


def test_a_member_deletes_a_recording_and_its_files_go_after_commit(
    bob: Client, world: World, django_capture_on_commit_callbacks
):
    recording = world.a.recordings[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = bob.delete(detail(recording))
    assert response.status_code == 204
    with account_scope(world.a.account.pk):
        assert not Recording.objects.filter(pk=recording.pk).exists()
        assert not MotionEvent.objects.filter(recording_id=recording.pk).exists()
    for kind in (files.CLIP, files.THUMBNAIL):
        assert not files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=kind)


def test_nobody_in_a_deletes_bs_recording(world: World):
    theirs = world.b.recordings[0]
    for user in world.a.people.values():
        assert client_for(user).delete(detail(theirs)).status_code == 404
    with account_scope(world.b.account.pk):
        assert Recording.objects.filter(pk=theirs.pk).exists()
    assert files.clip_storage.exists(account_id=theirs.account_id, object_id=theirs.pk, kind=files.CLIP)
