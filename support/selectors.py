"""Reads of a household's support grants, inside its scope."""

import uuid

from django.db.models import Prefetch
from django.http import Http404

from support.models import SupportGrant, SupportGrantCamera


def grants_list(*, limit: int = 50) -> list[SupportGrant]:
    """The active household's grants, newest first, with the cameras each covers."""
    cameras = Prefetch("grant_cameras", queryset=SupportGrantCamera.objects.select_related("camera"))
    return list(SupportGrant.objects.prefetch_related(cameras)[:limit])


def grant_get(*, grant_id: uuid.UUID | str) -> SupportGrant:
    """One of the active household's grants, or 404 (another household's, or none)."""
    try:
        return SupportGrant.objects.get(pk=grant_id)
    except (SupportGrant.DoesNotExist, ValueError):
        raise Http404("No such support grant.") from None
