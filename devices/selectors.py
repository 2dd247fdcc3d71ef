"""Reads for cameras, inside the active household's scope. Another household's
camera is a 404, exactly like a missing one.

Every read of cameras by a person goes through ``cameras_visible``: a member or
viewer an owner limited to some cameras sees only those, and the others answer
404 and are absent from lists as if they did not exist. Recordings filter their
clips with ``filter_visible_cameras`` for the same reason.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from devices.models import Camera, CameraAccess, LiveSession

STALE_AFTER = timedelta(seconds=60)

_M = TypeVar("_M", bound=Model)


def granted_camera_ids(*, membership: Membership) -> QuerySet[Any]:
    """The ids of the cameras an owner chose for ``membership`` (a subquery, not run here)."""
    return CameraAccess.objects.filter(membership_id=membership.pk).values("camera_id")


def filter_visible_cameras(queryset: QuerySet[_M], *, viewer: Membership, field: str = "camera_id") -> QuerySet[_M]:
    """``queryset`` (of cameras, or of rows naming a camera in ``field``) without the cameras
    ``viewer`` may not see. Unlimited people cost nothing: no filter, no query."""
    if not viewer.sees_some_cameras_only:
        return queryset
    return queryset.filter(**{f"{field}__in": granted_camera_ids(membership=viewer)})


def cameras_visible(*, viewer: Membership) -> QuerySet[Camera]:
    return filter_visible_cameras(Camera.objects.all(), viewer=viewer, field="pk")


def cameras_list(*, viewer: Membership) -> list[Camera]:
    return list(cameras_visible(viewer=viewer).order_by("name"))


def camera_get(*, viewer: Membership, camera_id: uuid.UUID | str) -> Camera:
    """A camera ``viewer`` may see, or 404 (another household's, one kept from them, or none)."""
    try:
        return cameras_visible(viewer=viewer).get(pk=camera_id)
    except (Camera.DoesNotExist, ValueError):
        raise Http404(_("No such camera.")) from None


def watchers(*, camera: Camera) -> list[str]:
    """Who is watching the camera live now (names, one per person)."""
    fresh = timezone.now() - STALE_AFTER
    sessions = LiveSession.objects.filter(camera=camera, seen_at__gte=fresh).select_related("user")
    # Support staff watch only under the household's grant, and are named as support.
    return sorted(
        {
            _("Support: %(name)s") % {"name": s.user.display_name} if s.user.is_staff else s.user.display_name
            for s in sessions
        }
    )


# A camera that reported itself online but has not been seen for this long shows offline
# (its worker or socket died without saying so).
ONLINE_WITHIN_SECONDS = 30


def shows_online(camera: Camera) -> bool:
    seen = camera.last_seen_at
    return camera.is_online and seen is not None and (timezone.now() - seen).total_seconds() < ONLINE_WITHIN_SECONDS


@dataclass(frozen=True)
class Watching:
    """Who watches a camera live now: what a pull worker must make for them."""

    jpeg: bool = False  # someone whose browser plays no MP4: JPEG pictures
    h264: bool = False  # someone whose browser plays H.264 as MP4
    hevc: bool = False  # someone whose browser plays H.265 as MP4 (and H.264)
    h264_only: bool = False  # someone who plays H.264 but not H.265

    @property
    def anyone(self) -> bool:
        return self.jpeg or self.h264

    def relay(self, codec: str) -> bool:
        """Whether someone plays this codec's stream as MP4 (the worker relays its packets)."""
        return {"h264": self.h264, "hevc": self.hevc}.get(codec, False)

    def needs_jpeg(self, codec: str) -> bool:
        """Whether someone watching a camera of this codec needs JPEG (the worker decodes)."""
        return {"h264": self.jpeg, "hevc": self.jpeg or self.h264_only}.get(codec, self.anyone)


def camera_watched(*, camera_id: uuid.UUID) -> Watching:
    """Whether someone watches the camera live now, and what their browsers play."""
    kinds = set(
        LiveSession.objects.filter(camera_id=camera_id, seen_at__gte=timezone.now() - STALE_AFTER)
        .values_list("plays_mp4", "plays_hevc")
        .distinct()
    )
    return Watching(
        jpeg=any(not mp4 for mp4, _ in kinds),
        h264=any(mp4 for mp4, _ in kinds),
        hevc=(True, True) in kinds,
        h264_only=(True, False) in kinds,
    )


def camera_access_of(*, membership: Membership) -> tuple[bool, list[uuid.UUID]]:
    """Whether an owner limited ``membership`` to some cameras, and which (for the owner's form)."""
    if not membership.sees_some_cameras_only:
        return False, []
    return True, list(CameraAccess.objects.filter(membership_id=membership.pk).values_list("camera_id", flat=True))
