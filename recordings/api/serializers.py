"""Shapes only: what a recording looks like in the API, and the list's query parameters."""

import functools
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from recordings.models import MotionEvent, Recording, RecordingStatus
from recordings.selectors import EVENTS_PAGE_SIZE, MAX_PAGE_SIZE
from recordings.views.events import event_url
from recordings.views.pages import EARLIEST_DAY


class CameraRefSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()


class MotionEventSerializer(serializers.ModelSerializer[MotionEvent]):
    class Meta:
        model = MotionEvent
        fields = ("started_at", "ended_at", "score")


_PLACEHOLDER = uuid.UUID(int=0)
_DATETIME = serializers.DateTimeField()


@functools.cache
def _url_template(name: str) -> str:
    """A route's path with a placeholder id: one ``reverse()`` per route, not per item."""
    return reverse(name, kwargs={"recording_id": _PLACEHOLDER})


def clip_url(name: str, recording_id: uuid.UUID) -> str:
    return _url_template(name).replace(str(_PLACEHOLDER), str(recording_id))


class RecordingSerializer(serializers.ModelSerializer[Recording]):
    """A recording (the detail route and the schema; lists use ``recordings_json``)."""

    camera = CameraRefSerializer()
    motion_events = serializers.SerializerMethodField()
    video_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = (
            "id",
            "camera",
            "started_at",
            "ended_at",
            "duration_s",
            "status",
            "failure_reason",
            "size_bytes",
            "width",
            "height",
            "fps",
            "codec",
            "container",
            "playable_in_browser",
            "not_playable_reason",
            "warning",
            "motion_score",
            "has_motion",
            "motion_events",
            "video_url",
            "thumbnail_url",
            "download_url",
        )

    @extend_schema_field(MotionEventSerializer(many=True))
    def get_motion_events(self, recording: Recording) -> list[dict[str, Any]]:
        return [
            {
                "started_at": _DATETIME.to_representation(event.started_at),
                "ended_at": _DATETIME.to_representation(event.ended_at),
                "score": event.score,
            }
            for event in recording.motion_events.all()
        ]

    def get_video_url(self, recording: Recording) -> str:
        return clip_url("recordings:clip-video", recording.pk)

    def get_thumbnail_url(self, recording: Recording) -> str | None:
        return clip_url("recordings:clip-thumbnail", recording.pk) if recording.has_thumbnail else None

    def get_download_url(self, recording: Recording) -> str:
        return clip_url("recordings:clip-download", recording.pk)


def _datetime(value: datetime | None) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def recordings_json(recordings: list[Recording], *, motion: dict[uuid.UUID, list[MotionEvent]]) -> list[dict[str, Any]]:
    """A page of recordings exactly as ``RecordingSerializer`` shows them (a test compares
    the two), built directly: DRF's field machinery cost more than the page's queries."""
    return [
        {
            "id": str(r.pk),
            "camera": {"id": str(r.camera.pk), "name": r.camera.name},
            "started_at": _datetime(r.started_at),
            "ended_at": _datetime(r.ended_at),
            "duration_s": r.duration_s,
            "status": r.status,
            "failure_reason": r.failure_reason,
            "size_bytes": r.size_bytes,
            "width": r.width,
            "height": r.height,
            "fps": r.fps,
            "codec": r.codec,
            "container": r.container,
            "playable_in_browser": r.playable_in_browser,
            "not_playable_reason": r.not_playable_reason,
            "warning": r.warning,
            "motion_score": r.motion_score,
            "has_motion": r.has_motion,
            "motion_events": [
                {"started_at": _datetime(e.started_at), "ended_at": _datetime(e.ended_at), "score": e.score}
                for e in motion.get(r.pk, [])
            ],
            "video_url": clip_url("recordings:clip-video", r.pk),
            "thumbnail_url": clip_url("recordings:clip-thumbnail", r.pk) if r.has_thumbnail else None,
            "download_url": clip_url("recordings:clip-download", r.pk),
        }
        for r in recordings
    ]


# The list action answers one page object, not an array of them (the schema said an array).
@extend_schema_serializer(many=False)
class RecordingPageSerializer(serializers.Serializer[Any]):
    results = RecordingSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class RecordingFilterSerializer(serializers.Serializer[Any]):
    """The list's query parameters. Times without a zone are in the server's time zone."""

    camera = serializers.UUIDField(required=False, help_text="Only this camera's clips.")
    start = serializers.DateTimeField(required=False, help_text="Clips that start at or after this time (ISO 8601).")
    end = serializers.DateTimeField(required=False, help_text="Clips that start before this time (ISO 8601).")
    motion = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="true or false.")
    status = serializers.ChoiceField(choices=RecordingStatus.choices, required=False)
    cursor = serializers.CharField(required=False, max_length=500, help_text="From a page's next/previous link.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=50)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"end": "end must be after start."})
        return attrs


class StorageSerializer(serializers.Serializer[Any]):
    """The household's storage against its quota (what ``/recordings/storage/`` shows)."""

    used_bytes = serializers.IntegerField(read_only=True, help_text="Clips and thumbnails as stored (encrypted).")
    quota_bytes = serializers.IntegerField(read_only=True)
    storage_quota_gb = serializers.DecimalField(
        max_digits=12, decimal_places=1, help_text="The quota in GB (1024**3 bytes); owners set it."
    )
    max_quota_gb = serializers.DecimalField(
        max_digits=12, decimal_places=1, read_only=True, help_text="The largest quota this server allows."
    )


class EventFilterSerializer(serializers.Serializer[Any]):
    """The events list's query parameters (the same filters as the events page)."""

    camera = serializers.UUIDField(required=False, help_text="Only this camera's events.")
    day = serializers.DateField(
        required=False, help_text="Only events that start on this day (YYYY-MM-DD, the site's time zone)."
    )
    cursor = serializers.CharField(required=False, max_length=500, help_text="From a page's next link.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=EVENTS_PAGE_SIZE)

    def validate_day(self, day: date) -> date:
        if not EARLIEST_DAY <= day <= timezone.localdate() + timedelta(days=1):
            raise serializers.ValidationError(
                _("The day must be from %(earliest)s to tomorrow.") % {"earliest": f"{EARLIEST_DAY:%Y-%m-%d}"}
            )
        return day


class EventSerializer(serializers.Serializer[Any]):
    """A motion event with its clip and camera, and where the player shows it."""

    id = serializers.UUIDField()
    recording_id = serializers.UUIDField()
    camera = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    score = serializers.FloatField()
    offset_s = serializers.SerializerMethodField(help_text="Seconds from the clip's start to the event's.")
    thumbnail_url = serializers.SerializerMethodField()
    player_url = serializers.SerializerMethodField(help_text="The clip's page, started at the event (?t=).")

    @extend_schema_field(CameraRefSerializer)
    def get_camera(self, event: MotionEvent) -> dict[str, str]:
        camera = event.recording.camera
        return {"id": str(camera.pk), "name": camera.name}

    def get_offset_s(self, event: MotionEvent) -> float:
        return round(max(0.0, (event.started_at - event.recording.started_at).total_seconds()), 3)

    def get_thumbnail_url(self, event: MotionEvent) -> str | None:
        recording = event.recording
        return clip_url("recordings:clip-thumbnail", recording.pk) if recording.has_thumbnail else None

    def get_player_url(self, event: MotionEvent) -> str:
        return event_url(event)


class EventPageSerializer(serializers.Serializer[Any]):
    results = EventSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The page of older events, or null.")
