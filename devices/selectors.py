"""Reads for cameras, inside the active household's scope. Another household's
camera is a 404, exactly like a missing one."""

import uuid
from datetime import timedelta

from django.http import Http404
from django.utils import timezone

from devices.models import Camera, LiveSession

STALE_AFTER = timedelta(seconds=60)


def cameras_list() -> list[Camera]:
    return list(Camera.objects.order_by("name"))


def camera_get(*, camera_id: uuid.UUID | str) -> Camera:
    try:
        return Camera.objects.get(pk=camera_id)
    except (Camera.DoesNotExist, ValueError):
        raise Http404("No such camera.") from None


def watchers(*, camera: Camera) -> list[str]:
    """Who is watching the camera live now (names, one per person)."""
    fresh = timezone.now() - STALE_AFTER
    sessions = LiveSession.objects.filter(camera=camera, seen_at__gte=fresh).select_related("user")
    return sorted({session.user.display_name for session in sessions})
