"""The events page: motion events across the cameras the person may see, newest first.

Filters by camera and day, keyset pages with the recordings list's signed cursors (a
salt of their own), and each event links to its clip's player at the event's moment
(``?t=<seconds into the clip>``, which ``static/js/player.js`` seeks to).
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import account_required
from accounts.http import TenantRequest
from devices.models import Camera
from devices.selectors import cameras_list
from recordings.api.pagination import EVENTS_SALT, InvalidCursor, decode_cursor, encode_cursor
from recordings.models import MotionEvent
from recordings.selectors import EVENTS_PAGE_SIZE, Position, motion_events
from recordings.views.pages import EARLIEST_DAY

# Events per page (read at each request, so tests may shorten it).
PAGE_SIZE = EVENTS_PAGE_SIZE


@dataclass(frozen=True)
class EventRow:
    event: MotionEvent
    offset: float  # seconds from the clip's start to the event's
    duration: float  # seconds
    url: str  # the clip's player at the event's moment


def event_url(event: MotionEvent) -> str:
    """The clip page, started at the event: ``/recordings/<clip>/?t=<seconds>``."""
    offset = max(0.0, (event.started_at - event.recording.started_at).total_seconds())
    return f"{reverse('recordings:clip', kwargs={'recording_id': event.recording_id})}?t={offset:.1f}"


def _bad(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain")


@require_http_methods(["GET", "HEAD"])
@account_required
def events(request: TenantRequest) -> HttpResponse:
    viewer = request.membership
    assert viewer is not None
    cameras = cameras_list(viewer=viewer)
    camera: Camera | None = None
    if raw_camera := request.GET.get("camera", ""):
        try:
            wanted = uuid.UUID(raw_camera)
        except ValueError:
            return _bad(_("The camera must be one of the cameras in the list."))
        # Another household's camera, or one kept from this person: 404, like a missing one.
        camera = next((c for c in cameras if c.pk == wanted), None)
        if camera is None:
            raise Http404(_("No such camera."))
    day: date | None = None
    if raw_day := request.GET.get("day", ""):
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            day = None
        if day is None or not EARLIEST_DAY <= day <= timezone.localdate() + timedelta(days=1):
            return _bad(
                _("The day must be a date like 2026-11-30, from %(earliest)s to tomorrow.")
                % {"earliest": f"{EARLIEST_DAY:%Y-%m-%d}"}
            )
    cursor: Position | None = None
    if raw_cursor := request.GET.get("older", ""):
        try:
            direction, cursor = decode_cursor(raw_cursor, account_id=viewer.account_id, salt=EVENTS_SALT)
        except InvalidCursor:
            return _bad(_("That page link is not valid any more: start again from the first page."))
        if direction != "next":
            return _bad(_("That page link is not valid: start again from the first page."))
    page = motion_events(
        viewer=viewer, camera_id=camera.pk if camera else None, day=day, cursor=cursor, limit=PAGE_SIZE
    )
    rows = [
        EventRow(
            event=event,
            offset=max(0.0, (event.started_at - event.recording.started_at).total_seconds()),
            duration=max(0.0, (event.ended_at - event.started_at).total_seconds()),
            url=event_url(event),
        )
        for event in page.items
    ]
    filters = {"camera": str(camera.pk) if camera else "", "day": day.isoformat() if day else ""}
    older_url = None
    if page.has_more:
        last = page.items[-1]
        token = encode_cursor(
            Position(last.started_at, last.pk), direction="next", account_id=viewer.account_id, salt=EVENTS_SALT
        )
        older_url = "?" + urlencode({**{k: v for k, v in filters.items() if v}, "older": token})
    context = {
        "cameras": cameras,
        "camera": camera,
        "day": day,
        "rows": rows,
        "older_url": older_url,
        "paged": cursor is not None,
        "first_url": "?" + urlencode({k: v for k, v in filters.items() if v}),
    }
    return render(request, "recordings/events.html", context)
