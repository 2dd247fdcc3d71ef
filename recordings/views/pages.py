"""Portal pages of recordings: a camera's day on a timeline, the clip player, deleting a clip."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from accounts.confirm import Confirmation, confirmation_page, confirmed
from accounts.decorators import account_required
from accounts.http import TenantRequest
from devices.models import Camera
from devices.selectors import camera_get, cameras_list
from recordings.api.pagination import InvalidCursor, decode_cursor, encode_cursor
from recordings.models import MotionEvent, Recording, RecordingStatus
from recordings.retention import storage_usage_seen_by
from recordings.selectors import (
    Position,
    day_bounds,
    day_motion,
    day_motion_all,
    day_segments,
    day_segments_all,
    event_neighbours,
    keyset_page,
    recording_get,
    recording_neighbours,
    recordings_filtered,
    share_links_active,
)
from recordings.services import recording_delete

# Clips listed with their thumbnails per timeline page (the bar shows the whole day).
TIMELINE_PAGE_SIZE = 48
# No clip is older (uploads refuse clips from years ago); tomorrow allows for time zones.
EARLIEST_DAY = date(2000, 1, 1)


@dataclass(frozen=True)
class Mark:
    """Something drawn on the 24-hour bar, in percent of the day."""

    left: float
    width: float
    title: str
    recording_id: uuid.UUID
    css: str


def _percent(moment: datetime, start: datetime, length: float) -> float:
    return max(0.0, min(100.0, (moment - start).total_seconds() * 100.0 / length))


def _marks(rows: list[Mapping[str, Any]], start: datetime, end: datetime, *, motion: bool) -> list[Mark]:
    length = end.timestamp() - start.timestamp()  # not ``end - start``: same tzinfo, wall-clock 24 h on DST days
    marks = []
    for row in rows:
        began, ended = row["started_at"], row["ended_at"]
        left = _percent(began, start, length)
        width = max(_percent(ended, start, length) - left, 0.12)
        clock = formats.time_format(timezone.localtime(began), "TIME_FORMAT")
        if motion:
            title = _("motion at %(time)s (%(score)s)") % {
                "time": clock,
                "score": formats.number_format(round(row["score"], 2), 2),
            }
            marks.append(Mark(left, width, title, row["recording_id"], "motion"))
        else:
            css = f"clip status-{row['status']}{' has-motion' if row['has_motion'] else ''}"
            status = RecordingStatus(row["status"]).label.lower()
            marks.append(Mark(left, width, f"{clock} · {status}", row["id"], css))
    return marks


def _seconds(moment: datetime, start: datetime) -> float:
    return round(moment.timestamp() - start.timestamp(), 1)  # elapsed, whatever the two tzinfos


def _bar_data(segments: list[Mapping[str, Any]], motion: list[Mapping[str, Any]], start: datetime) -> dict[str, Any]:
    """One camera's bar for timeline.js: offsets in seconds from the day's start."""
    return {
        "segments": [
            {
                "id": str(row["id"]),
                "start": _seconds(row["started_at"], start),
                "end": _seconds(row["ended_at"], start),
                "status": row["status"],
                "motion": bool(row["has_motion"]),
            }
            for row in segments
        ],
        "motion": [
            {
                "clip": str(row["recording_id"]),
                "start": _seconds(row["started_at"], start),
                "end": _seconds(row["ended_at"], start),
            }
            for row in motion
        ],
    }


def _page_data(day: date, start: datetime, end: datetime, bars: list[dict[str, Any]]) -> dict[str, Any]:
    """What timeline.js draws, in a <script type="application/json"> (the CSP runs no inline script)."""
    offset = start.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return {
        "day": day.isoformat(),
        "zone": timezone.get_current_timezone_name(),
        "utc_offset_minutes": minutes,  # at the day's start; the zone's name covers DST days
        "start": start.timestamp(),
        "length": end.timestamp() - start.timestamp(),  # 23 or 25 h on DST days (``end - start`` says 24: same tzinfo)
        "clip_url": reverse("recordings:clip", args=[uuid.UUID(int=0)]),
        "cameras": bars,
    }


def _day(request: TenantRequest) -> date | None:
    """The day asked for, or None if it is no date or outside ``EARLIEST_DAY`` .. tomorrow:
    year 1 or 9999 would overflow turning the day (and its neighbours) into times."""
    raw = request.GET.get("day")
    if not raw:
        return timezone.localdate()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if EARLIEST_DAY <= day <= timezone.localdate() + timedelta(days=1) else None


@require_http_methods(["GET", "HEAD"])
@account_required
def timeline(request: TenantRequest) -> HttpResponse:
    viewer = request.membership
    assert viewer is not None
    cameras = cameras_list(viewer=viewer)
    day = _day(request)
    if day is None:
        return HttpResponseBadRequest(
            _("The day must be a date like 2026-11-30, from %(earliest)s to tomorrow.")
            % {"earliest": f"{EARLIEST_DAY:%Y-%m-%d}"},
            content_type="text/plain",
        )
    if request.GET.get("all") == "1" or request.GET.get("camera") == "all":  # the picker's "All cameras"
        return _all_cameras(request, cameras, day)
    camera: Camera | None
    if request.GET.get("camera"):
        try:
            wanted = uuid.UUID(request.GET["camera"])
        except ValueError:
            raise Http404(_("No such camera.")) from None
        camera = camera_get(viewer=viewer, camera_id=wanted)  # another household's, or kept from them: 404
    else:
        camera = cameras[0] if cameras else None
    context: dict[str, object] = {
        "cameras": cameras,
        "camera": camera,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < timezone.localdate() else None,
        "usage": storage_usage_seen_by(viewer),
        "hours": range(0, 24, 3),
    }
    if camera is not None:
        start, end = day_bounds(day)
        segments, truncated = day_segments(viewer=viewer, camera_id=camera.pk, day=day)
        account_id = viewer.account_id
        after = None
        if request.GET.get("older"):
            try:
                _direction, after = decode_cursor(request.GET["older"], account_id=account_id)
            except InvalidCursor:
                return HttpResponseBadRequest(_("That page link is not valid any more."), content_type="text/plain")
        page = keyset_page(
            recordings_filtered(viewer=viewer, camera_id=camera.pk, start=start, end=end),
            page_size=TIMELINE_PAGE_SIZE,
            after=after,
            with_motion=False,
            camera=camera,
        )
        older = None
        if page.has_more:
            last = page.items[-1]
            older = encode_cursor(Position(last.started_at, last.pk), direction="next", account_id=account_id)
        motion_rows = day_motion(viewer=viewer, camera_id=camera.pk, day=day)
        bar = {"id": str(camera.pk), "name": camera.name, **_bar_data(segments, motion_rows, start)}
        context.update(
            bars=[
                {
                    "camera": camera,
                    "segments": _marks(segments, start, end, motion=False),
                    "motion": _marks(motion_rows, start, end, motion=True),
                }
            ],
            timeline_data=_page_data(day, start, end, [bar]),
            truncated=truncated,
            clips=page.items,
            older=older,
            paged=after is not None,
        )
    return render(request, "recordings/timeline.html", context)


def _all_cameras(request: TenantRequest, cameras: list[Camera], day: date) -> HttpResponse:
    """Every camera the person may see on one day, a bar each, sharing zoom and cursor. The
    clips and motion of all of them come in one query each (no query per camera)."""
    viewer = request.membership
    assert viewer is not None
    start, end = day_bounds(day)
    segments, truncated = day_segments_all(viewer=viewer, day=day)
    motion = day_motion_all(viewer=viewer, day=day)
    by_camera: dict[uuid.UUID, list[Mapping[str, Any]]] = {c.pk: [] for c in cameras}
    motion_by_camera: dict[uuid.UUID, list[Mapping[str, Any]]] = {c.pk: [] for c in cameras}
    for row in segments:
        by_camera.setdefault(row["camera_id"], []).append(row)
    for row in motion:
        motion_by_camera.setdefault(row["recording__camera_id"], []).append(row)
    bars, data = [], []
    for camera in cameras:
        rows, events = by_camera[camera.pk], motion_by_camera[camera.pk]
        bars.append(
            {
                "camera": camera,
                "segments": _marks(rows, start, end, motion=False),
                "motion": _marks(events, start, end, motion=True),
            }
        )
        data.append({"id": str(camera.pk), "name": camera.name, **_bar_data(rows, events, start)})
    context: dict[str, object] = {
        "cameras": cameras,
        "camera": None,
        "all_cameras": True,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < timezone.localdate() else None,
        "usage": storage_usage_seen_by(viewer),
        "hours": range(0, 24, 3),
        "bars": bars,
        "truncated": truncated,
        "timeline_data": _page_data(day, start, end, data),
    }
    return render(request, "recordings/timeline.html", context)


@require_http_methods(["GET", "HEAD"])
@account_required
def clip(request: TenantRequest, recording_id: uuid.UUID) -> HttpResponse:
    """The player: the video (if ready), its motion events (click to seek), previous/next clip."""
    assert request.membership is not None
    recording = recording_get(viewer=request.membership, recording_id=recording_id)
    events = [
        {"offset": max(0.0, (event.started_at - recording.started_at).total_seconds()), "event": event}
        for event in recording.motion_events.all()
    ]
    previous, following = recording_neighbours(recording=recording)
    event_before, event_after = event_neighbours(recording=recording)
    day = timezone.localdate(recording.started_at)
    gap = (following.started_at - recording.ended_at).total_seconds() if following else None
    context = {
        "recording": recording,
        "events": events,
        "previous": previous,
        "following": following,
        # Where "play through" goes when this clip ends: the next clip, if a browser can play it.
        "plays_on": following if following and following.is_ready and following.playable_in_browser else None,
        "gap": _gap_words(gap),
        "event_before": _event_link(event_before),
        "event_after": _event_link(event_after),
        "timeline_url": _timeline_url(recording.camera_id, day),
        "share_links": share_links_active(viewer=request.membership, recording=recording),
    }
    return render(request, "recordings/clip.html", context)


def _event_link(event: MotionEvent | None) -> str:
    """The clip page of ``event``'s clip, at the event (the player seeks to ``?t=``)."""
    if event is None:
        return ""
    offset = max(0.0, (event.started_at - event.recording.started_at).total_seconds())
    return f"{reverse('recordings:clip', args=[event.recording_id])}?t={offset:.1f}"


def _gap_words(seconds: float | None) -> str:
    """How the next clip follows this one, for people: on at once, or after a gap."""
    if seconds is None:
        return ""
    if seconds < 1.5:
        return _("The next clip follows on without a gap.")
    if seconds < 120:
        return _("No recording for %(n)s s before the next clip.") % {"n": round(seconds)}
    if seconds < 7200:
        return _("No recording for %(n)s min before the next clip.") % {"n": round(seconds / 60)}
    return _("No recording for %(n)s h before the next clip.") % {"n": formats.localize(round(seconds / 3600, 1))}


def clip_words(recording: Recording) -> str:
    """A clip for people, in their language: "Porch at Dec 2, 2026, 17:05:09"."""
    when = formats.date_format(timezone.localtime(recording.started_at), "DATETIME_FORMAT")
    # A context of its own: French says "du <date>" here, "à <heure>" for a time alone.
    return pgettext("clip at a date", "%(camera)s at %(time)s") % {"camera": recording.camera.name, "time": when}


def _timeline_url(camera_id: uuid.UUID, day: date) -> str:
    return f"{reverse('recordings:timeline')}?camera={camera_id}&day={day.isoformat()}"


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def clip_delete(request: TenantRequest, recording_id: uuid.UUID) -> HttpResponse:
    """Owners and members, after confirming; a viewer gets 403, on the GET too."""
    assert request.membership is not None
    recording = recording_get(viewer=request.membership, recording_id=recording_id)  # another household's: 404 first
    if not request.membership.can_delete_recordings:
        raise PermissionDenied(_("Only owners and members delete recordings."))
    label = clip_words(recording)
    if not confirmed(request):
        question = Confirmation(
            title=_("Delete this clip?"),
            explanation=_("The clip of %(clip)s, its picture and its motion events are deleted for good.")
            % {"clip": label},
            action=_("Delete the clip"),
            cancel_url=reverse("recordings:clip", kwargs={"recording_id": recording.pk}),
        )
        return confirmation_page(request, question)
    camera_id, day = recording.camera_id, timezone.localdate(recording.started_at)
    recording_delete(actor=request.membership, recording=recording)
    messages.success(request, _("Deleted the clip of %(clip)s.") % {"clip": label})
    return redirect(_timeline_url(camera_id, day))
