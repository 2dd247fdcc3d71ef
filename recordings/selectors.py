"""Reads of recordings, inside the active household's scope.

Every lookup goes through the scoped managers, so another household's recording
(or camera) is a 404 exactly like a missing one, and through ``recordings_visible``,
so a clip of a camera an owner kept from the person is one too. Pages are keyset pages on
``(started_at, id)``, newest first, served by the ``recording_account_time`` and
``recording_camera_time`` indexes whatever the depth.
"""

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from devices.models import Camera
from devices.selectors import filter_visible_cameras
from recordings.models import MotionEvent, Recording, RecordingStatus, ShareLink
from recordings.video import reasons

MAX_PAGE_SIZE = 200
_DECIMAL = re.compile(r"-?\d+\.\d+")
# Motion events per page of the events list (the page and the API's default).
EVENTS_PAGE_SIZE = 30
# The timeline bar draws every clip of the day up to this many (a clip every ~20 s).
DAY_SEGMENT_LIMIT = 5000


def recordings_visible(*, viewer: Membership) -> QuerySet[Recording]:
    """The household's recordings of the cameras ``viewer`` may see (devices decides which)."""
    return filter_visible_cameras(Recording.objects.all(), viewer=viewer)


def recording_get(*, viewer: Membership, recording_id: uuid.UUID | str) -> Recording:
    """The one access helper of every clip route: scoped lookup first, roles after. A clip
    of a camera kept from ``viewer`` is a 404 like a missing one."""
    try:
        return recordings_visible(viewer=viewer).select_related("camera").get(pk=recording_id)
    except (Recording.DoesNotExist, ValueError):
        raise Http404(_("No such recording.")) from None


def share_links_active(*, viewer: Membership, recording: Recording | None = None) -> QuerySet[ShareLink]:
    """Links not expired nor revoked, of the clips ``viewer`` may see (of one clip if given)."""
    links = ShareLink.objects.filter(
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        recording__in=recordings_visible(viewer=viewer).values("pk"),
    ).select_related("recording", "recording__camera")
    return links if recording is None else links.filter(recording=recording)


def share_link_get(*, viewer: Membership, link_id: uuid.UUID | str) -> ShareLink:
    """A link of a clip ``viewer`` may see (active or not), else 404 like a missing one."""
    try:
        return (
            ShareLink.objects.filter(recording__in=recordings_visible(viewer=viewer).values("pk"))
            .select_related("recording", "recording__camera")
            .get(pk=link_id)
        )
    except (ShareLink.DoesNotExist, ValueError):
        raise Http404(_("No such link.")) from None


@dataclass(frozen=True)
class Position:
    """Where a keyset page starts: the ``(started_at, id)`` of the item just outside it."""

    started_at: datetime
    id: uuid.UUID


@dataclass
class Page:
    items: list[Recording]
    has_more: bool  # more items beyond the page in the direction it was read
    # The items' motion events by recording id (when asked for), oldest first.
    motion: dict[uuid.UUID, list[MotionEvent]] = field(default_factory=dict)


def recordings_filtered(
    *,
    viewer: Membership,
    camera_id: uuid.UUID | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    motion: bool | None = None,
    status: str | None = None,
) -> QuerySet[Recording]:
    """The recordings ``viewer`` may see that *start* in ``[start, end)``, with the other filters."""
    queryset = recordings_visible(viewer=viewer)
    if camera_id is not None:
        queryset = queryset.filter(camera_id=camera_id)
    if start is not None:
        queryset = queryset.filter(started_at__gte=start)
    if end is not None:
        queryset = queryset.filter(started_at__lt=end)
    if motion is not None:
        queryset = queryset.filter(has_motion=motion)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def keyset_query(
    queryset: QuerySet[Recording],
    *,
    page_size: int,
    after: Position | None = None,
    before: Position | None = None,
) -> QuerySet[Recording]:
    """The query of one page plus one row (to know whether more follow): older than
    ``after`` newest first, or newer than ``before`` oldest first. One SQL statement.

    ``started_at <= x`` is redundant with the OR but gives the planner a range
    bound on the index, so a deep page costs the same as the first.

    The page's ids are picked by a subquery that reads only the index (``id`` and
    ``started_at`` are in it), then the rows are fetched by primary key. Asked for
    whole rows directly, PostgreSQL misjudges how many rows the row-level security
    filter keeps (it counts the household condition twice: ~2 estimated for 10,000
    real) and reads and sorts all of a camera's clips instead of walking the index:
    15-20 ms instead of under 1 ms at a million recordings.
    """
    if before is not None:
        order: tuple[str, ...] = ("started_at", "id")
        queryset = queryset.filter(started_at__gte=before.started_at).filter(
            Q(started_at__gt=before.started_at) | Q(id__gt=before.id)
        )
    else:
        order = ("-started_at", "-id")
        if after is not None:
            queryset = queryset.filter(started_at__lte=after.started_at).filter(
                Q(started_at__lt=after.started_at) | Q(id__lt=after.id)
            )
    ids = queryset.order_by(*order).values("pk")[: page_size + 1]
    return Recording.objects.filter(pk__in=ids).order_by(*order)


def keyset_page(
    queryset: QuerySet[Recording],
    *,
    page_size: int,
    after: Position | None = None,
    before: Position | None = None,
    with_motion: bool = True,
    camera: Camera | None = None,
) -> Page:
    """One page, newest first (see ``keyset_query``): one query, plus one for the motion
    events and, unless ``camera`` (the filter's, already loaded) is given, one for the cameras.

    The cameras are not joined: with a join, PostgreSQL (misled by the row-level
    security filter's selectivity) read and sorted every clip of the household
    instead of walking the index for one page (56 ms instead of 0.3 ms at a
    million rows).
    """
    query = keyset_query(queryset, page_size=page_size, after=after, before=before)
    if camera is None:
        query = query.prefetch_related("camera")
    rows = list(query)
    items = rows[:page_size]
    if camera is not None:
        for item in items:
            item.camera = camera
    page = Page(items=items[::-1] if before is not None else items, has_more=len(rows) > page_size)
    if with_motion and items:
        # One query, grouped here: Django's prefetch_related builds a scoped queryset
        # per recording, which cost more than the rest of the request at 50 a page.
        motion: dict[uuid.UUID, list[MotionEvent]] = defaultdict(list)
        for event in MotionEvent.objects.filter(recording_id__in=[item.pk for item in items]).order_by("started_at"):
            motion[event.recording_id].append(event)
        page.motion = dict(motion)
    return page


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A calendar day in the person's time zone (accounts.timezones; else the site's), 23 or
    25 hours on DST days."""
    zone = timezone.get_current_timezone()
    return datetime.combine(day, time.min, zone), datetime.combine(day + timedelta(days=1), time.min, zone)


def day_segments(*, viewer: Membership, camera_id: uuid.UUID, day: date) -> tuple[list[Mapping[str, Any]], bool]:
    """The clips of a camera's day for the timeline bar (light rows, oldest first), and
    whether the day has more than ``DAY_SEGMENT_LIMIT``."""
    start, end = day_bounds(day)
    rows: list[Mapping[str, Any]] = list(
        recordings_filtered(viewer=viewer, camera_id=camera_id, start=start, end=end)
        .order_by("started_at", "id")
        .values("id", "started_at", "ended_at", "status", "has_motion")[: DAY_SEGMENT_LIMIT + 1]
    )
    return rows[:DAY_SEGMENT_LIMIT], len(rows) > DAY_SEGMENT_LIMIT


def day_motion(*, viewer: Membership, camera_id: uuid.UUID, day: date) -> list[Mapping[str, Any]]:
    """The motion events of a camera's day, for the markers on the timeline bar."""
    start, end = day_bounds(day)
    events = filter_visible_cameras(MotionEvent.objects.all(), viewer=viewer, field="recording__camera_id")
    rows: list[Mapping[str, Any]] = list(
        events.filter(recording__camera_id=camera_id, started_at__gte=start, started_at__lt=end)
        .order_by("started_at")
        .values("recording_id", "started_at", "ended_at", "score")[:DAY_SEGMENT_LIMIT]
    )
    return rows


def day_segments_all(*, viewer: Membership, day: date) -> tuple[list[Mapping[str, Any]], bool]:
    """The clips of the day of every camera ``viewer`` may see, in one query (the all-cameras
    timeline: no query per camera), oldest first with their ``camera_id``, and whether the day
    has more than ``DAY_SEGMENT_LIMIT`` of them."""
    start, end = day_bounds(day)
    rows: list[Mapping[str, Any]] = list(
        recordings_filtered(viewer=viewer, start=start, end=end)
        .order_by("started_at", "id")
        .values("id", "camera_id", "started_at", "ended_at", "status", "has_motion")[: DAY_SEGMENT_LIMIT + 1]
    )
    return rows[:DAY_SEGMENT_LIMIT], len(rows) > DAY_SEGMENT_LIMIT


def day_motion_all(*, viewer: Membership, day: date) -> list[Mapping[str, Any]]:
    """The motion events of the day of every camera ``viewer`` may see, in one query."""
    start, end = day_bounds(day)
    events = filter_visible_cameras(MotionEvent.objects.all(), viewer=viewer, field="recording__camera_id")
    rows: list[Mapping[str, Any]] = list(
        events.filter(started_at__gte=start, started_at__lt=end)
        .order_by("started_at")
        .values("recording_id", "recording__camera_id", "started_at", "ended_at", "score")[:DAY_SEGMENT_LIMIT]
    )
    return rows


def recording_neighbours(*, recording: Recording) -> tuple[Recording | None, Recording | None]:
    """The same camera's clips just before and just after ``recording`` (by start time).
    ``recording`` comes from ``recording_get``, so its camera is one the person may see."""
    same_camera = Recording.objects.filter(camera_id=recording.camera_id)
    at = recording.started_at
    previous = (
        same_camera.filter(started_at__lte=at)
        .filter(Q(started_at__lt=at) | Q(id__lt=recording.pk))
        .order_by("-started_at", "-id")
        .first()
    )
    following = (
        same_camera.filter(started_at__gte=at)
        .filter(Q(started_at__gt=at) | Q(id__gt=recording.pk))
        .order_by("started_at", "id")
        .first()
    )
    return previous, following


def event_neighbours(*, recording: Recording) -> tuple[MotionEvent | None, MotionEvent | None]:
    """The same camera's motion events just before ``recording`` starts and just after it
    ends, in ready clips (their recordings loaded): where "previous/next event" go.
    ``recording`` comes from ``recording_get``, so its camera is one the person may see."""
    events = MotionEvent.objects.filter(
        recording__camera_id=recording.camera_id, recording__status=RecordingStatus.READY
    ).select_related("recording")
    previous = events.filter(started_at__lt=recording.started_at).order_by("-started_at", "-id").first()
    following = events.filter(started_at__gt=recording.ended_at).order_by("started_at", "id").first()
    return previous, following


@dataclass
class EventPage:
    """A page of motion events, newest first, each with its recording and camera loaded."""

    items: list[MotionEvent]
    has_more: bool  # older events follow


def motion_events(
    *,
    viewer: Membership,
    camera_id: uuid.UUID | None = None,
    day: date | None = None,
    cursor: Position | None = None,
    limit: int = EVENTS_PAGE_SIZE,
) -> EventPage:
    """The motion events of the ready clips of the cameras ``viewer`` may see, newest first:
    a keyset page on the event's ``(started_at, id)``, older than ``cursor`` (the last event
    of the previous page). ``camera_id`` must be one ``viewer`` may see (``camera_get``);
    ``day`` is a calendar day in the person's time zone (``day_bounds``).

    One query, whatever the page size or the number of cameras: the recording and the
    camera are joined, and the ``motionevent_account_time`` index gives the order. Events
    that arrive between two pages are newer than the cursor (or, for a clip processed
    late, land where they belong), so the pages following a cursor neither repeat nor
    skip an event that was there when the first page was read.
    """
    events = filter_visible_cameras(
        MotionEvent.objects.filter(recording__status=RecordingStatus.READY),
        viewer=viewer,
        field="recording__camera_id",
    )
    if camera_id is not None:
        events = events.filter(recording__camera_id=camera_id)
    if day is not None:
        start, end = day_bounds(day)
        events = events.filter(started_at__gte=start, started_at__lt=end)
    if cursor is not None:
        # As in keyset_query: the redundant bound gives the planner a range on the index.
        events = events.filter(started_at__lte=cursor.started_at).filter(
            Q(started_at__lt=cursor.started_at) | Q(id__lt=cursor.id)
        )
    rows = list(events.select_related("recording", "recording__camera").order_by("-started_at", "-id")[: limit + 1])
    return EventPage(items=rows[:limit], has_more=len(rows) > limit)


REASON_FIELDS = {"failure": "failure_reason", "not_playable": "not_playable_reason", "warning": "warning"}


def reason_text(recording: Recording, field: str) -> str:
    """The recording's ``failure`` / ``not_playable`` / ``warning`` sentence in the active language.

    Translated from the msgid and parameters processing kept (``reasons_json``); the stored
    English when there are none (rows from before), or when they cannot be rendered.
    """
    english: str = getattr(recording, REASON_FIELDS[field])
    if not english or not recording.reasons_json:
        return english
    try:
        described = json.loads(recording.reasons_json).get(field)
        if described is None:
            return english
        return reasons.render(described, _, _localize_number)
    except (ValueError, TypeError, KeyError, AttributeError):
        # A translation with a wrong placeholder, or a malformed row: the English is still right.
        return english


def _localize_number(value: str) -> str:
    """A decimal parameter ("2.5") with the reader's decimal separator; anything else as it is."""
    if _DECIMAL.fullmatch(value):
        return formats.number_format(Decimal(value), decimal_pos=len(value.partition(".")[2]))
    return value
