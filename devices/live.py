"""Who may watch a camera live, decided the way pages decide it (synchronous,
called from the consumers through ``database_sync_to_async``)."""

import uuid
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.audit import record_access
from accounts.auth.policy import second_factor_missing
from accounts.middleware import choose_active_membership
from accounts.models import AccessKind, Membership, User
from accounts.selectors import memberships_for_user
from accounts.tenancy import account_scope, user_scope
from devices.models import Camera, LiveSession
from devices.selectors import cameras_visible, shows_online


@dataclass(frozen=True)
class LiveView:
    account_id: uuid.UUID
    camera_id: uuid.UUID
    user_id: uuid.UUID
    membership_id: uuid.UUID
    session_id: uuid.UUID
    camera_name: str
    session_key: str
    status: dict[str, Any]  # the camera's status when the view started (sent to the viewer first)


def camera_status(camera: Camera) -> dict[str, Any]:
    """The status message a viewer's socket starts with: is the camera sending, and since when."""
    online = shows_online(camera)
    return {
        "type": "status",
        "state": "online" if online else "offline",
        "message": "" if online else camera.status_message,
        "last_seen": camera.last_seen_at.isoformat() if camera.last_seen_at else None,
    }


def session_data(session_key: str) -> dict[str, Any]:
    """The session's data as Django's auth reads it (empty if it is gone)."""
    return dict(import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).load())


def still_signed_in(*, user_id: uuid.UUID, session_key: str) -> tuple[User, dict[str, Any]] | None:
    """The active user and their session's data, if that session is still theirs as Django's
    auth reads it: still there, still this user, and signed with the current password (a
    password change leaves old sessions in place, only with a stale hash)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    session = session_data(session_key)
    if session.get(SESSION_KEY) != str(user.pk):
        return None
    if not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return None
    return user, session


def start_live_view(
    *,
    user: User,
    session_key: str,
    active_account: str | None,
    camera_id: uuid.UUID,
    ip: str | None,
    user_agent: str,
    plays_mp4: bool = False,
    plays_hevc: bool = False,
) -> LiveView | None:
    """The viewer's active household, then the camera inside its scope: None
    (refuse before accepting) for another household's camera, one an owner kept
    from them, a missing or a disabled one. Records the start of the view."""
    with user_scope(user.pk):
        memberships = memberships_for_user(user_id=user.pk)
    membership = choose_active_membership(memberships, active_account)
    if membership is None or second_factor_missing(account=membership.account, session=session_data(session_key)):
        return None
    with account_scope(membership.account_id, user_id=user.pk):
        camera = cameras_visible(viewer=membership).filter(pk=camera_id, enabled=True).first()
        if camera is None:
            return None
        session = LiveSession.objects.create(
            account_id=camera.account_id, camera=camera, user=user, plays_mp4=plays_mp4, plays_hevc=plays_hevc
        )
        view = LiveView(
            camera.account_id,
            camera.pk,
            user.pk,
            membership.pk,
            session.pk,
            camera.name,
            session_key,
            camera_status(camera),
        )
        _record(view, AccessKind.LIVE_START, user, membership, ip=ip, user_agent=user_agent)
        return view


def still_allowed(view: LiveView) -> bool:
    """Re-check (the safety net behind revocation events) and mark the view as alive.

    Also catches what sends no event: a session that expired or was deleted, a
    password changed elsewhere, a user deactivated or deleted by support."""
    signed_in = still_signed_in(user_id=view.user_id, session_key=view.session_key)
    if signed_in is None:
        return False
    session = signed_in[1]
    with account_scope(view.account_id, user_id=view.user_id):
        membership = (
            Membership.objects.filter(pk=view.membership_id, user_id=view.user_id).select_related("account").first()
        )
        if membership is None or second_factor_missing(account=membership.account, session=session):
            return False
        # Also catches a camera taken from a limited member without the closing message.
        if not cameras_visible(viewer=membership).filter(pk=view.camera_id, enabled=True).exists():
            return False
        LiveSession.objects.filter(pk=view.session_id).update(seen_at=timezone.now())
        return True


def end_live_view(view: LiveView, *, ip: str | None, user_agent: str) -> None:
    with account_scope(view.account_id, user_id=view.user_id):
        LiveSession.objects.filter(pk=view.session_id).delete()
        user = User.objects.filter(pk=view.user_id).first()
        if user is None:
            return
        membership = Membership.objects.filter(pk=view.membership_id).first()
        _record(view, AccessKind.LIVE_END, user, membership, ip=ip, user_agent=user_agent)


def _record(
    view: LiveView, kind: AccessKind, user: User, membership: Membership | None, *, ip: str | None, user_agent: str
) -> None:
    """The household's access event for the start or end of a live view (inside its scope)."""
    record_access(
        account_id=view.account_id,
        actor=user,
        membership=membership,
        kind=kind,
        object_type="camera",
        object_id=view.camera_id,
        object_label=view.camera_name,
        ip=ip,
        user_agent=user_agent,
    )
