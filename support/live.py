"""Who may watch a camera live under a support grant (synchronous; the consumer calls
these through ``database_sync_to_async``). Decided like the pages decide: a staff
session that used its second factor, an active grant, a camera it covers."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import Http404
from django.utils import timezone

from accounts.audit import record_access
from accounts.models import AccessKind, AccessVia, User
from accounts.staff import staff_session_ready
from accounts.tenancy import account_scope
from devices.live import camera_status, session_data, still_signed_in
from devices.models import LiveSession
from support.access import grant_access, grant_access_in_scope, granted_cameras


@dataclass(frozen=True)
class SupportView:
    account_id: uuid.UUID
    camera_id: uuid.UUID
    user_id: uuid.UUID
    grant_id: uuid.UUID
    session_id: uuid.UUID  # the LiveSession row ("watching now" on the camera's page)
    camera_name: str
    session_key: str
    expires_at: datetime
    status: dict[str, Any]  # the camera's status when the view started (sent to the viewer first)


def start_support_view(
    *,
    user: User,
    session_key: str,
    grant_id: uuid.UUID,
    camera_id: uuid.UUID,
    ip: str | None,
    user_agent: str,
    plays_mp4: bool = False,
    plays_hevc: bool = False,
) -> SupportView | None:
    """None (refuse before accepting) without an active grant covering an enabled camera."""
    try:
        access = grant_access(staff=user, session=session_data(session_key), grant_id=grant_id)
    except Http404:
        return None
    with account_scope(access.account_id):
        camera = granted_cameras(access).filter(pk=camera_id, enabled=True).first()
        if camera is None:
            return None
        live = LiveSession.objects.create(
            account_id=access.account_id, camera=camera, user=user, plays_mp4=plays_mp4, plays_hevc=plays_hevc
        )
        view = SupportView(
            access.account_id,
            camera.pk,
            user.pk,
            access.grant_id,
            live.pk,
            camera.name,
            session_key,
            access.expires_at,
            camera_status(camera),
        )
        _record(view, AccessKind.LIVE_START, user, ip=ip, user_agent=user_agent)
        return view


def still_allowed(view: SupportView) -> bool:
    """The safety net behind the grant's closing message and the socket's own deadline."""
    signed_in = still_signed_in(user_id=view.user_id, session_key=view.session_key)
    if signed_in is None or not staff_session_ready(*signed_in):
        return False
    with account_scope(view.account_id):
        try:
            access = grant_access_in_scope(grant_id=view.grant_id)
        except Http404:
            return False
        if not granted_cameras(access).filter(pk=view.camera_id, enabled=True).exists():
            return False
        LiveSession.objects.filter(pk=view.session_id).update(seen_at=timezone.now())
        return True


def end_support_view(view: SupportView, *, ip: str | None, user_agent: str) -> None:
    with account_scope(view.account_id):
        LiveSession.objects.filter(pk=view.session_id).delete()
        user = User.objects.filter(pk=view.user_id).first()
        if user is not None:
            _record(view, AccessKind.LIVE_END, user, ip=ip, user_agent=user_agent)


def _record(view: SupportView, kind: AccessKind, user: User, *, ip: str | None, user_agent: str) -> None:
    record_access(
        account_id=view.account_id,
        actor=user,
        via=AccessVia.SUPPORT,
        kind=kind,
        object_type="camera",
        object_id=view.camera_id,
        object_label=view.camera_name,
        ip=ip,
        user_agent=user_agent,
    )
