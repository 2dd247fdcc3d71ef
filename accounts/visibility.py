"""What a member limited to some cameras may see of the household's shared lists.

``accounts`` knows only that a membership is limited (``Membership.camera_access_limited``);
the apps that own the objects (devices: cameras, recordings: clips) register which of
their objects such a person may see, so ``accounts`` imports neither. The access
history names objects by type and id: for a limited person it keeps only events
about objects some app says they may see, so an object type nobody registered is
hidden (fail closed).
"""

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import AccessEvent, Membership

# object_type -> the ids (a subquery) of that type's objects the limited membership may see.
VisibleIds = Callable[[Membership], QuerySet[Any]]
_VISIBLE: dict[str, VisibleIds] = {}


def register_visible_objects(object_type: str, visible_ids: VisibleIds) -> None:
    """Called from an app's ``ready()``; ``visible_ids`` must return a ``values()`` queryset of ids."""
    _VISIBLE[object_type] = visible_ids


def access_events_visible_to(events: QuerySet[AccessEvent], *, viewer: Membership) -> QuerySet[AccessEvent]:
    """``events`` narrowed to what ``viewer`` may see: all of them unless they are limited."""
    if not viewer.sees_some_cameras_only:
        return events
    allowed = Q(pk__in=[])
    for object_type, visible_ids in _VISIBLE.items():
        allowed |= Q(object_type=object_type, object_id__in=visible_ids(viewer))
    return events.filter(allowed)
