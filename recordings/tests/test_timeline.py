"""The timeline page: a camera's day, its clips as segments and thumbnails, storage used."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy import account_scope
from accounts.timezones import BROWSER_COOKIE
from conftest import World, client_for
from devices.models import CameraKind
from devices.services import camera_create
from devices.tests.conftest import add_camera, limit_member_and_viewer
from nvr.testing import session_reads
from recordings.models import Recording, RecordingStatus
from recordings.selectors import day_bounds, day_segments_all
from recordings.tests.factories import CLIP_SECONDS, make_recording
from recordings.tests.test_api_recordings import bulk_recordings
from recordings.views.pages import TIMELINE_PAGE_SIZE

TIMELINE = reverse("recordings:timeline")


def test_it_shows_the_first_cameras_clips_of_today(vera: Client, world: World):
    ready, processing = world.a.recordings
    response = vera.get(TIMELINE)
    assert response.status_code == 200
    page = response.content.decode()
    for day in {timezone.localdate(r.started_at) for r in (ready, processing)} - {timezone.localdate()}:
        page += vera.get(TIMELINE, {"day": day.isoformat()}).content.decode()  # just after midnight
    for recording in (ready, processing):
        assert f'data-recording="{recording.pk}"' in page
    assert reverse("recordings:clip-thumbnail", kwargs={"recording_id": ready.pk}) in page
    assert 'loading="lazy"' in page
    assert reverse("recordings:clip-thumbnail", kwargs={"recording_id": processing.pk}) not in page
    assert 'class="motion"' in page  # the ready clip's motion event on the bar
    assert "Processing…" in page
    assert world.a.cameras[0].name in page


def test_it_shows_nothing_of_another_household(vera: Client, world: World):
    page = vera.get(TIMELINE).content.decode()
    leaked = sorted(secret for secret in world.b.ids() if secret in page)
    assert leaked == []


def test_another_households_camera_is_a_404(vera: Client, world: World):
    assert vera.get(TIMELINE, {"camera": str(world.b.cameras[0].pk)}).status_code == 404
    assert vera.get(TIMELINE, {"camera": "not-a-uuid"}).status_code == 404


def test_a_bad_day_is_a_readable_400(vera: Client, world: World):
    response = vera.get(TIMELINE, {"day": "30/11/2026"})
    assert response.status_code == 400
    assert "2026-11-30" in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "far future"])
def test_a_day_out_of_range_is_a_readable_400(vera: Client, world: World, day):
    """Days the clock cannot turn into a range (year 1, year 9999) or no clip can have: 400, not a 500."""
    if day == "far future":
        day = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = vera.get(TIMELINE, {"day": day})
    assert response.status_code == 400
    assert "2000-01-01" in response.content.decode()


def test_the_first_and_last_allowed_days_show(vera: Client, world: World):
    for day in ("2000-01-01", (timezone.localdate() + timedelta(days=1)).isoformat()):
        assert vera.get(TIMELINE, {"day": day}).status_code == 200


def test_it_moves_between_days(vera: Client, world: World):
    camera = world.a.cameras[0]
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    start, _end = day_bounds(today)
    # Times of their own, not "now minus a little": just after midnight that is still yesterday.
    with account_scope(world.a.account.pk):
        old = make_recording(camera, started_at=start - timedelta(hours=12))
        recent = make_recording(camera, started_at=start + timedelta(seconds=1))
    page = vera.get(TIMELINE, {"camera": str(camera.pk)}).content.decode()
    assert f"day={yesterday.isoformat()}" in page
    assert f"day={(today + timedelta(days=1)).isoformat()}" not in page  # no future days
    assert str(old.pk) not in page
    assert f'data-recording="{recent.pk}"' in page
    page = vera.get(TIMELINE, {"camera": str(camera.pk), "day": yesterday.isoformat()}).content.decode()
    assert f'data-recording="{old.pk}"' in page
    assert str(recent.pk) not in page
    assert f"day={today.isoformat()}" in page
    empty = vera.get(TIMELINE, {"camera": str(camera.pk), "day": "2020-01-01"}).content.decode()
    assert "No clips on this day." in empty


def test_the_camera_picker_lists_the_households_cameras(vera: Client, world: World):
    with account_scope(world.a.account.pk):
        garden, _token = camera_create(actor=world.a.memberships["owner"], name="Garden", kind=CameraKind.PUSH)
        clip = make_recording(garden)
    day = timezone.localdate(clip.started_at).isoformat()  # the clip's day, even just after midnight
    page = vera.get(TIMELINE, {"camera": str(garden.pk), "day": day}).content.decode()
    assert f'<option value="{garden.pk}" selected>' in page
    assert f'<option value="{world.a.cameras[0].pk}">' in page
    assert f'data-recording="{clip.pk}"' in page
    assert f'data-recording="{world.a.recordings[0].pk}"' not in page


def test_it_shows_a_failed_clips_reason(vera: Client, world: World):
    with account_scope(world.a.account.pk):
        Recording.objects.filter(pk=world.a.recordings[1].pk).update(
            status=RecordingStatus.FAILED, failure_reason="the file is not a video"
        )
    # The clip started an hour ago: between midnight and 1 am that is yesterday's page.
    day = timezone.localdate(world.a.recordings[1].started_at).isoformat()
    page = vera.get(TIMELINE, {"day": day}).content.decode()
    assert "Failed: the file is not a video" in page
    assert "status-failed" in page


def test_it_shows_storage_used_and_the_quota(vera: Client, world: World):
    page = vera.get(TIMELINE).content.decode()
    assert 'data-testid="storage"' in page
    assert "of 20.0 GB" in page or "of 20 GB" in page


def test_a_busy_day_pages_its_clips_with_a_constant_query_count(vera: Client, world: World):
    camera = world.a.cameras[0]
    today = timezone.localdate()
    start = timezone.localtime().replace(hour=0, minute=30, second=0, microsecond=0)
    if start > timezone.now():
        pytest.skip("too close to midnight")  # pragma: no cover
    vera.get(TIMELINE)  # warm the session

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = vera.get(TIMELINE, {"camera": str(camera.pk), "day": today.isoformat()})
        assert response.status_code == 200
        return len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]])

    few = count()
    bulk_recordings(camera, TIMELINE_PAGE_SIZE + 10, at=start + timedelta(minutes=60), step=timedelta(seconds=30))
    assert count() == few
    # Session, user, memberships (+ set_config on PostgreSQL), cameras, the camera, the bar's
    # clips, the motion markers, the page of clips, storage used and quota.
    assert few == {"sqlite": 9, "postgresql": 12}[connection.vendor] + session_reads()
    first = vera.get(TIMELINE, {"camera": str(camera.pk), "day": today.isoformat()})
    page = first.content.decode()
    assert page.count('<li class="status-') == TIMELINE_PAGE_SIZE
    older = first.context["older"]
    assert older
    rest = vera.get(TIMELINE, {"camera": str(camera.pk), "day": today.isoformat(), "older": older})
    assert rest.context["older"] is None
    with account_scope(world.a.account.pk):
        day_start, day_end = day_bounds(today)
        total = Recording.objects.filter(camera=camera, started_at__gte=day_start, started_at__lt=day_end).count()
    assert rest.content.decode().count('<li class="status-') == total - TIMELINE_PAGE_SIZE
    shown = {r.pk for r in first.context["clips"]} | {r.pk for r in rest.context["clips"]}
    assert len(shown) == total
    assert vera.get(TIMELINE, {"camera": str(camera.pk), "older": "forged"}).status_code == 400


def test_the_nav_and_the_camera_page_link_to_the_timeline(vera: Client, world: World):
    camera = world.a.cameras[0]
    assert f'href="{TIMELINE}"' in vera.get(reverse("devices:grid")).content.decode()
    page = vera.get(reverse("devices:camera", kwargs={"camera_id": camera.pk})).content.decode()
    assert f"{TIMELINE}?camera={camera.pk}" in page


# The zoomable bars (timeline.js) draw from the page's JSON; the all-cameras view (?all=1).


def timeline_data(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    found = re.search(r'<script id="timeline-data" type="application/json">(.*?)</script>', response.content.decode())
    assert found, "no timeline JSON"
    return json.loads(found.group(1))


def test_the_json_has_the_days_clips_in_the_persons_zone(alice: Client, world: World):
    """New York's 2026-11-20: a clip at 23:30 there (04:30 UTC the next day) is on it, 84600 s in;
    one at 21:00 the evening before (02:00 UTC on the 20th) is not."""
    camera = world.a.cameras[0]
    with account_scope(world.a.account.pk):
        late = make_recording(camera, started_at=datetime(2026, 11, 21, 4, 30, tzinfo=UTC))
        before = make_recording(camera, started_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC), motion=False)
    alice.cookies[BROWSER_COOKIE] = "America/New_York"
    data = timeline_data(alice.get(TIMELINE, {"camera": str(camera.pk), "day": "2026-11-20"}))
    assert data["zone"] == "America/New_York"
    assert data["utc_offset_minutes"] == -300
    assert data["length"] == 86400
    assert data["start"] == datetime(2026, 11, 20, 5, 0, tzinfo=UTC).timestamp()
    [bar] = data["cameras"]
    assert bar["id"] == str(camera.pk)
    assert bar["segments"] == [
        {"id": str(late.pk), "start": 84600.0, "end": 84600.0 + CLIP_SECONDS, "status": "ready", "motion": True}
    ]
    assert [m["clip"] for m in bar["motion"]] == [str(late.pk)]
    assert str(before.pk) not in json.dumps(data)
    assert data["clip_url"] == reverse("recordings:clip", args=[uuid.UUID(int=0)])


def test_a_dst_day_is_25_hours_long(alice: Client, world: World):
    alice.cookies[BROWSER_COOKIE] = "Europe/Paris"
    data = timeline_data(alice.get(TIMELINE, {"day": "2026-10-25"}))
    assert data["length"] == 25 * 3600
    assert data["utc_offset_minutes"] == 120


def test_the_all_cameras_view_has_a_bar_per_camera(alice: Client, world: World):
    garden = add_camera(world.a, "Garden").camera
    with account_scope(world.a.account.pk):
        clip = make_recording(garden)
    day = timezone.localdate(clip.started_at).isoformat()
    for query in ({"all": "1", "day": day}, {"camera": "all", "day": day}):
        response = alice.get(TIMELINE, query)
        data = timeline_data(response)
        assert [c["name"] for c in data["cameras"]] == sorted(c.name for c in [*world.a.cameras, garden])
        shown = {c["id"]: [s["id"] for s in c["segments"]] for c in data["cameras"]}
        assert str(clip.pk) in shown[str(garden.pk)]
        assert response.content.decode().count('data-testid="timeline-bar"') == len(data["cameras"])
        page = response.content.decode()
        assert sorted(secret for secret in world.b.ids() if secret in page) == []


def test_the_all_cameras_view_refuses_a_bad_day(alice: Client, world: World):
    assert alice.get(TIMELINE, {"all": "1", "day": "2026-13-01"}).status_code == 400


def test_a_limited_member_sees_only_their_cameras_on_the_all_cameras_view(world: World):
    limited = limit_member_and_viewer(world.a)  # porch kept from bob and vera; garden theirs
    day = timezone.localdate(limited.garden_clip.started_at).isoformat()
    porch_clips = [str(r.pk) for r in world.a.recordings]
    for role in (Role.MEMBER, Role.VIEWER):
        response = client_for(world.a.people[role]).get(TIMELINE, {"all": "1", "day": day})
        data = timeline_data(response)
        assert [c["id"] for c in data["cameras"]] == [str(limited.garden.pk)]
        page = response.content.decode()
        assert limited.porch.name not in page
        assert all(clip not in page for clip in porch_clips)
    everyone = timeline_data(client_for(world.a.owner).get(TIMELINE, {"all": "1", "day": day}))
    assert {c["id"] for c in everyone["cameras"]} == {str(limited.porch.pk), str(limited.garden.pk)}


def test_the_all_cameras_view_reads_all_cameras_clips_in_one_query(alice: Client, world: World):
    """The cameras, their clips, their motion: a query each, however many cameras (see
    nvr/tests/test_query_counts.py for the pinned count)."""
    with account_scope(world.a.account.pk):
        clips = [make_recording(add_camera(world.a, f"Extra {n}").camera) for n in range(4)]
        day = timezone.localdate(clips[0].started_at)
        with CaptureQueriesContext(connection) as context:
            segments, truncated = day_segments_all(viewer=world.a.memberships["owner"], day=day)
    assert len(context.captured_queries) == 1
    assert not truncated
    assert {clip.pk for clip in clips} <= {row["id"] for row in segments}
    assert {clip.camera_id for clip in clips} <= {row["camera_id"] for row in segments}
