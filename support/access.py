"""The one access helper of the support viewer: a staff person, an active grant, and
what it covers. Everything else answers 404, exactly like a missing grant.

The grant's id names its household: it is looked up across households (the only
unscoped read here, an id and nothing else), and every read after that runs in
that household's scope, limited to the cameras the grant covers. A grant of one
household can therefore never reach another's camera or clip.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.staff import staff_session_ready
from accounts.tenancy import account_scope, unscoped
from devices.models import Camera
from recordings.models import Recording
from support.models import SupportGrant, SupportGrantCamera


@dataclass(frozen=True)
class GrantAccess:
    grant_id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    all_cameras: bool
    camera_ids: frozenset[uuid.UUID]
    expires_at: datetime
    reason: str
    granted_by_label: str


def grant_account_id(grant_id: uuid.UUID | str) -> uuid.UUID | None:
    """The household of an *active* grant, or None."""
    with unscoped(f"support viewer: which household grant {grant_id} belongs to"):
        return (
            SupportGrant.objects.filter(pk=grant_id, ended_at__isnull=True, expires_at__gt=timezone.now())
            .values_list("account_id", flat=True)
            .first()
        )


def grant_access(*, staff: User, session: Any, grant_id: uuid.UUID | str) -> GrantAccess:
    """The grant as its household gave it, for a staff session that used its second
    factor; 404 otherwise. The caller then runs in ``account_scope(access.account_id)``."""
    if not staff_session_ready(staff, session):
        raise Http404("No such support grant.")
    account_id = grant_account_id(grant_id)
    if account_id is None:
        raise Http404("No such support grant.")
    with account_scope(account_id):
        return grant_access_in_scope(grant_id=grant_id)


def grant_access_in_scope(*, grant_id: uuid.UUID | str) -> GrantAccess:
    """Inside the grant's household scope: the grant if still active, else 404."""
    grant = (
        SupportGrant.objects.filter(pk=grant_id, ended_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("account")
        .first()
    )
    if grant is None:
        raise Http404("No such support grant.")
    cameras = frozenset(SupportGrantCamera.objects.filter(grant=grant).values_list("camera_id", flat=True))
    return GrantAccess(
        grant_id=grant.pk,
        account_id=grant.account_id,
        account_name=grant.account.name,
        all_cameras=grant.all_cameras,
        camera_ids=cameras,
        expires_at=grant.expires_at,
        reason=grant.reason,
        granted_by_label=grant.granted_by_label,
    )


def granted_cameras(access: GrantAccess) -> QuerySet[Camera]:
    cameras = Camera.objects.all()
    return cameras if access.all_cameras else cameras.filter(pk__in=access.camera_ids)


def granted_camera_get(access: GrantAccess, camera_id: uuid.UUID | str) -> Camera:
    try:
        return granted_cameras(access).get(pk=camera_id)
    except (Camera.DoesNotExist, ValueError):
        raise Http404("No such camera.") from None


def granted_recordings(access: GrantAccess) -> QuerySet[Recording]:
    recordings = Recording.objects.select_related("camera")
    return recordings if access.all_cameras else recordings.filter(camera_id__in=access.camera_ids)


def granted_recording_get(access: GrantAccess, recording_id: uuid.UUID | str) -> Recording:
    try:
        return granted_recordings(access).get(pk=recording_id)
    except (Recording.DoesNotExist, ValueError):
        raise Http404("No such recording.") from None
