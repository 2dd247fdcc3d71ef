"""The events page and its selector: motion events across the cameras a person may see,
newest first, filtered by camera and day, in keyset pages; each links to its clip's player
at the event's moment. (The player starting there in Chromium: test_browser_playback.py.)
"""

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.models import Membership, Role
from accounts.services import OPERATOR, member_add
from accounts.tenancy import account_scope
from conftest import Household, World, client_for
from devices.tests.conftest import add_camera, limit_member_and_viewer
from nvr.testing import statement_kind
from recordings.api.pagination import EVENTS_SALT, SALT, encode_cursor
from recordings.models import MotionEvent, Recording
from recordings.selectors import Position, motion_events
from recordings.tests.factories import make_recording
from recordings.views import events as events_view

EVENTS = reverse("recordings:events")


def add_event(recording: Recording, *, at: datetime | None = None, seconds: float = 1.0) -> MotionEvent:
    """A motion event of ``recording`` (by default at its start plus ``seconds``)."""
    started_at = at or recording.started_at + timedelta(seconds=seconds)
    with account_scope(recording.account_id):
        return MotionEvent.objects.create(
            account_id=recording.account_id,
            recording=recording,
            started_at=started_at,
            ended_at=started_at + timedelta(seconds=0.8),
            score=0.6,
        )


def shown(response: Any) -> list[str]:
    """The ids of the events a page lists, in order."""
    assert response.status_code == 200, response.content[:300]
    return re.findall(r'data-event="([0-9a-f-]{36})"', response.content.decode())


def listed(membership: Membership, **filters: Any) -> list[uuid.UUID]:
    with account_scope(membership.account_id):
        return [event.pk for event in motion_events(viewer=membership, **filters).items]


def the_event(household: Household) -> MotionEvent:
    """The motion event of the household's ready clip (made with the world)."""
    with account_scope(household.account.pk):
        return MotionEvent.objects.get(recording=household.recordings[0])


def garden_with_clip(household: Household, *, minutes_ago: float = 2) -> tuple[Any, Recording]:
    garden = add_camera(household, "Garden").camera
    with account_scope(household.account.pk):
        clip = make_recording(garden, started_at=timezone.now() - timedelta(minutes=minutes_ago))
    return garden, clip


def test_events_of_two_cameras_are_listed_newest_first(alice: Client, world: World):
    porch_event = the_event(world.a)  # 5 minutes ago
    _garden, garden_clip = garden_with_clip(world.a)  # 2 minutes ago
    with account_scope(world.a.account.pk):
        garden_event = MotionEvent.objects.get(recording=garden_clip)
    older = add_event(world.a.recordings[0], at=porch_event.started_at - timedelta(minutes=10))
    expected = [str(garden_event.pk), str(porch_event.pk), str(older.pk)]
    response = alice.get(EVENTS)
    assert shown(response) == expected
    page = response.content.decode()
    assert "Garden" in page
    assert world.a.cameras[0].name in page
    assert reverse("recordings:clip-thumbnail", kwargs={"recording_id": garden_clip.pk}) in page
    assert "score 0.80" in page  # the fixture's event: 0.5 s to 1.5 s, score 0.8
    assert "1.0 s" in page
    assert listed(world.a.memberships[Role.OWNER]) == [uuid.UUID(e) for e in expected]


def test_only_ready_clips_events_are_listed(alice: Client, world: World):
    processing = world.a.recordings[1]
    hidden = add_event(processing)
    assert str(hidden.pk) not in shown(alice.get(EVENTS))
    assert shown(alice.get(EVENTS)) == [str(the_event(world.a).pk)]


def test_keyset_pages_neither_repeat_nor_skip_when_events_arrive_between_pages(world: World):
    clip = world.a.recordings[0]
    base = clip.started_at - timedelta(hours=2)
    made = [add_event(clip, at=base + timedelta(minutes=n)) for n in range(8)]
    # Two more at the same instant: the id decides their order, and the cursor keeps it.
    made += [add_event(clip, at=base + timedelta(minutes=3)) for _ in range(2)]
    owner = world.a.memberships[Role.OWNER]
    everything = listed(owner, limit=100)
    assert len(everything) == len(set(everything)) == 11
    tied = [pk for pk in everything if pk in {made[3].pk, made[8].pk, made[9].pk}]
    assert tied == sorted(tied, reverse=True), "ties on started_at must be newest id first, as the cursor reads"
    seen: list[uuid.UUID] = []
    cursor = None
    arrived: list[MotionEvent] = []
    for _ in range(20):
        with account_scope(world.a.account.pk):
            page = motion_events(viewer=owner, cursor=cursor, limit=3)
        seen += [event.pk for event in page.items]
        if not page.has_more:
            break
        last = page.items[-1]
        cursor = Position(last.started_at, last.pk)
        # New motion arrives between pages: newer than everything read so far.
        arrived.append(add_event(clip, at=timezone.now() + timedelta(seconds=len(arrived))))
    assert seen == everything, "pages repeated or skipped events"
    assert not {e.pk for e in arrived} & set(seen)
    assert len(arrived) == 3  # 11 events in pages of 3: three page turns
    # The newest of them lead the first page of a fresh read.
    assert listed(owner, limit=3)[0] == arrived[-1].pk


def test_the_older_link_follows_the_pages(alice: Client, world: World, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(events_view, "PAGE_SIZE", 2)
    clip = world.a.recordings[0]
    for n in range(4):
        add_event(clip, at=clip.started_at - timedelta(minutes=n + 1))
    expected = [str(e) for e in listed(world.a.memberships[Role.OWNER])]
    assert len(expected) == 5
    seen: list[str] = []
    url = EVENTS + f"?camera={world.a.cameras[0].pk}"
    for _ in range(5):
        response = alice.get(url)
        seen += shown(response)
        match = re.search(r'href="(\?[^"]+)" rel="next"', response.content.decode())
        if match is None:
            break
        url = EVENTS + match.group(1).replace("&amp;", "&")
        assert f"camera={world.a.cameras[0].pk}" in url  # the filter stays with the cursor
    assert seen == expected


def test_the_camera_filter(alice: Client, world: World):
    garden, garden_clip = garden_with_clip(world.a)
    with account_scope(world.a.account.pk):
        garden_event = MotionEvent.objects.get(recording=garden_clip)
    assert shown(alice.get(EVENTS, {"camera": str(garden.pk)})) == [str(garden_event.pk)]
    assert shown(alice.get(EVENTS, {"camera": str(world.a.cameras[0].pk)})) == [str(the_event(world.a).pk)]
    page = alice.get(EVENTS, {"camera": str(garden.pk)}).content.decode()
    assert f'<option value="{garden.pk}" selected>' in page


def test_the_day_filter_uses_the_sites_time_zone(alice: Client, world: World, settings):
    clip = world.a.recordings[0]
    late = add_event(clip, at=datetime(2026, 11, 21, 3, 0, tzinfo=UTC))  # Nov 20 in New York
    noon = add_event(clip, at=datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    assert shown(alice.get(EVENTS, {"day": "2026-11-21"})) == [str(noon.pk), str(late.pk)]
    assert shown(alice.get(EVENTS, {"day": "2026-11-20"})) == []
    assert "No motion events on Nov 20, 2026." in alice.get(EVENTS, {"day": "2026-11-20"}).content.decode()
    settings.TIME_ZONE = "America/New_York"
    assert shown(alice.get(EVENTS, {"day": "2026-11-21"})) == [str(noon.pk)]
    assert shown(alice.get(EVENTS, {"day": "2026-11-20"})) == [str(late.pk)]
    both = alice.get(EVENTS, {"day": "2026-11-21", "camera": str(world.a.cameras[0].pk)})
    assert shown(both) == [str(noon.pk)]


def test_a_limited_member_sees_no_events_of_cameras_kept_from_them(world: World):
    limited = limit_member_and_viewer(world.a)  # porch kept from bob and vera; garden theirs
    porch_event = the_event(world.a)
    with account_scope(world.a.account.pk):
        garden_event = MotionEvent.objects.get(recording=limited.garden_clip)
    for role in (Role.MEMBER, Role.VIEWER):
        client = client_for(world.a.people[role])
        response = client.get(EVENTS)
        assert shown(response) == [str(garden_event.pk)]
        page = response.content.decode()
        assert str(porch_event.pk) not in page
        assert limited.porch.name not in page
        assert str(limited.porch.pk) not in page  # not among the filter's cameras either
        assert client.get(EVENTS, {"camera": str(limited.porch.pk)}).status_code == 404
        assert listed(world.a.memberships[role]) == [garden_event.pk]
        assert listed(world.a.memberships[role], camera_id=limited.porch.pk) == []
    assert shown(client_for(world.a.owner).get(EVENTS)) == [str(garden_event.pk), str(porch_event.pk)]


def test_another_households_events_never_appear(world: World):
    theirs = the_event(world.b)
    secrets = {str(theirs.pk), str(world.b.recordings[0].pk), str(world.b.cameras[0].pk), world.b.cameras[0].name}
    for role in (Role.OWNER, Role.MEMBER, Role.VIEWER):
        page = client_for(world.a.people[role]).get(EVENTS).content.decode()
        assert shown_in(page) == [str(the_event(world.a).pk)]
        assert not {s for s in secrets if s in page}
    assert theirs.pk not in listed(world.a.memberships[Role.OWNER], limit=200)
    # One person in both households, with A active, sees A's events only; with B active, B's.
    with account_scope(world.b.account.pk):
        member_add(actor=OPERATOR, email=world.a.owner.email, role=Role.VIEWER)
    for active, present, absent in ((world.a, the_event(world.a), theirs), (world.b, theirs, the_event(world.a))):
        client = client_for(world.a.owner)
        session = client.session
        session[ACTIVE_ACCOUNT_SESSION_KEY] = str(active.account.pk)
        session.save()
        assert shown(client.get(EVENTS)) == [str(present.pk)], active.account.name
        assert str(absent.pk) not in client.get(EVENTS).content.decode()


def shown_in(page: str) -> list[str]:
    return re.findall(r'data-event="([0-9a-f-]{36})"', page)


def test_another_households_camera_in_the_filter_is_a_404_like_a_missing_one(alice: Client, world: World):
    assert alice.get(EVENTS, {"camera": str(world.b.cameras[0].pk)}).status_code == 404
    assert alice.get(EVENTS, {"camera": str(uuid.uuid4())}).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"older": "nonsense"},
        {"older": "x" * 600},
        {"camera": "not-a-uuid"},
        {"camera": "123"},
        {"day": "yesterday"},
        {"day": "2026-13-01"},
        {"day": "0001-01-01"},
        {"day": "9999-12-31"},
    ],
)
def test_a_malformed_cursor_camera_or_day_is_a_400(alice: Client, world: World, query: dict[str, str]):
    response = alice.get(EVENTS, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert any(word in response.content.decode() for word in ("page link", "camera", "day"))


def test_cursors_of_another_kind_household_or_direction_are_a_400(alice: Client, world: World):
    position = Position(timezone.now(), uuid.uuid4())
    mine = world.a.account.pk
    fine = encode_cursor(position, direction="next", account_id=mine, salt=EVENTS_SALT)
    assert alice.get(EVENTS, {"older": fine}).status_code == 200
    refused = [
        encode_cursor(position, direction="next", account_id=mine, salt=SALT),  # the recordings list's
        encode_cursor(position, direction="next", account_id=world.b.account.pk, salt=EVENTS_SALT),
        encode_cursor(position, direction="previous", account_id=mine, salt=EVENTS_SALT),
        fine[:-2],
    ]
    for cursor in refused:
        assert alice.get(EVENTS, {"older": cursor}).status_code == 400, cursor


def test_an_event_links_to_its_clip_at_its_moment(alice: Client, world: World):
    clip = world.a.recordings[0]
    late = add_event(clip, seconds=1.25)
    page = alice.get(EVENTS).content.decode()
    clip_url = reverse("recordings:clip", kwargs={"recording_id": clip.pk})
    assert f'href="{clip_url}?t=0.5"' in page  # the fixture's event, 0.5 s into the clip
    # The later event (newer, listed first) opens the clip 1.2 s in (rounded to tenths).
    first_link = re.search(r'<li data-event="[^"]+">\s*<a href="([^"]+)"', page)
    assert first_link is not None
    assert first_link.group(1) == f"{clip_url}?t=1.2"
    assert str(late.pk) in page
    player = alice.get(first_link.group(1))
    assert player.status_code == 200
    assert b"js/player.js" in player.content


def test_the_page_is_signed_in_only_and_empty_states_are_said(world: World):
    anonymous = Client().get(EVENTS)
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]
    with account_scope(world.a.account.pk):
        MotionEvent.objects.filter(recording__camera__in=world.a.cameras).delete()
    page = client_for(world.a.owner).get(EVENTS).content.decode()
    assert 'data-testid="events-empty"' in page
    assert "No motion events." in page


def data_queries(client: Client, url: str, data: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return sum(statement_kind(q["sql"]) == "data" for q in context.captured_queries)


def test_a_page_costs_two_data_queries_however_many_events_and_cameras(alice: Client, world: World):
    """The cameras (the filter's choices, and the camera filter's lookup) and the page of
    events with their clips and cameras joined: no query per event, camera or thumbnail."""
    porch = world.a.cameras[0]
    alice.get(EVENTS)  # the session's first request settles its household
    before = {
        "all": data_queries(alice, EVENTS),
        "camera": data_queries(alice, EVENTS, {"camera": str(porch.pk)}),
        "day": data_queries(alice, EVENTS, {"day": date.today().isoformat()}),
    }
    for n in range(4):
        camera = add_camera(world.a, f"Extra {n}").camera
        with account_scope(world.a.account.pk):
            clip = make_recording(camera, started_at=timezone.now() - timedelta(minutes=20 + n))
        for k in range(5):
            add_event(clip, at=clip.started_at - timedelta(seconds=k + 1))
    response = alice.get(EVENTS)
    assert len(shown(response)) == 1 + 4 * 6
    owner = world.a.memberships[Role.OWNER]
    last = listed(owner)[9]
    with account_scope(world.a.account.pk):
        event = MotionEvent.objects.get(pk=last)
    position = Position(event.started_at, event.pk)
    cursor = encode_cursor(position, direction="next", account_id=world.a.account.pk, salt=EVENTS_SALT)
    after = {
        "all": data_queries(alice, EVENTS),
        "camera": data_queries(alice, EVENTS, {"camera": str(porch.pk)}),
        "day": data_queries(alice, EVENTS, {"day": date.today().isoformat()}),
    }
    assert after == before == {"all": 2, "camera": 2, "day": 2}
    assert data_queries(alice, EVENTS, {"older": cursor}) == 2


# --- The API: /api/v1/events/ ----------------------------------------------------------
API = reverse("recordings-api:event-list")


def test_the_api_lists_the_same_events_and_follows_next(alice: Client, world: World):
    _garden, garden_clip = garden_with_clip(world.a)
    clip = world.a.recordings[0]
    for n in range(3):
        add_event(clip, at=clip.started_at - timedelta(minutes=n + 1))
    expected = [str(e) for e in listed(world.a.memberships[Role.OWNER])]
    assert len(expected) == 5
    seen: list[str] = []
    url: str | None = f"{API}?page_size=2"
    while url:
        body = alice.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
        assert set(body) == {"results", "next"}
    assert seen == expected
    first = alice.get(API).json()["results"][0]
    assert first["camera"]["name"] == "Garden"
    assert first["recording_id"] == str(garden_clip.pk)
    assert first["offset_s"] == 0.5
    assert first["player_url"] == reverse("recordings:clip", kwargs={"recording_id": garden_clip.pk}) + "?t=0.5"
    assert first["thumbnail_url"] == reverse("recordings:clip-thumbnail", kwargs={"recording_id": garden_clip.pk})
    only_porch = alice.get(API, {"camera": str(world.a.cameras[0].pk)}).json()["results"]
    assert {item["camera"]["id"] for item in only_porch} == {str(world.a.cameras[0].pk)}
    assert alice.get(API, {"day": "2026-11-20"}).json() == {"results": [], "next": None}


def test_the_api_refuses_bad_filters_and_hides_other_cameras(alice: Client, world: World):
    limited = limit_member_and_viewer(world.a)
    bob = client_for(world.a.member)
    assert [item["camera"]["id"] for item in bob.get(API).json()["results"]] == [str(limited.garden.pk)]
    assert bob.get(API, {"camera": str(limited.porch.pk)}).status_code == 404
    assert alice.get(API, {"camera": str(world.b.cameras[0].pk)}).status_code == 404
    assert str(the_event(world.b).pk) not in alice.get(API, {"page_size": 200}).content.decode()
    position = Position(timezone.now(), uuid.uuid4())
    recordings_cursor = encode_cursor(position, direction="next", account_id=world.a.account.pk, salt=SALT)
    for query, field in [
        ({"cursor": "nonsense"}, "cursor"),
        ({"cursor": recordings_cursor}, "cursor"),
        ({"camera": "nope"}, "camera"),
        ({"day": "2026-02-30"}, "day"),
        ({"day": "1999-12-31"}, "day"),
        ({"page_size": "0"}, "page_size"),
    ]:
        response = alice.get(API, query)
        assert response.status_code == 400, query
        assert field in response.json(), response.json()


def test_the_api_is_in_the_schema(alice: Client, world: World):
    schema = alice.get(reverse("api-schema"))
    assert schema.status_code == 200
    assert b"/api/v1/events/" in schema.content
    assert b"EventPage" in schema.content


def test_an_api_page_is_one_data_query_however_many_events(alice: Client, world: World):
    alice.get(API)
    before = data_queries(alice, API)
    for n in range(3):
        camera = add_camera(world.a, f"More {n}").camera
        with account_scope(world.a.account.pk):
            clip = make_recording(camera, started_at=timezone.now() - timedelta(minutes=30 + n))
        for k in range(4):
            add_event(clip, at=clip.started_at - timedelta(seconds=k + 1))
    assert len(alice.get(API).json()["results"]) == 1 + 3 * 5
    assert data_queries(alice, API) == before == 1
    assert data_queries(alice, API, {"camera": str(world.a.cameras[0].pk)}) == 2  # the camera, then the page
