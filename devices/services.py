"""Writes for cameras: create, change, disable, delete; rotate and revoke tokens.

Owners and members manage cameras; viewers watch. Every change that ends
someone's access closes the affected sockets once it commits.
"""

import logging
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import decrypt_for_account, encrypt_for_account
from accounts.models import Membership, User
from accounts.realtime import close_sockets_on_commit
from accounts.services import actor_account_id
from accounts.support_audit import staff_action_record
from accounts.tenancy import require_account_scope
from devices.addresses import AddressNotAllowed, check_address
from devices.credentials import DevicePrincipal, issue_token
from devices.extensions import camera_created, camera_deleting, settings_save
from devices.groups import camera_control_group, camera_viewer_group, device_control_group
from devices.models import (
    Camera,
    CameraAccess,
    CameraKind,
    CameraStatus,
    DeviceToken,
)

SOURCE_PURPOSE = "camera-source-url"

logger = logging.getLogger("nvr.devices")


def _require_manager(actor: Membership) -> None:
    actor_account_id(actor)
    if not actor.can_manage_cameras:
        raise PermissionDenied(_("Only owners and members manage cameras."))


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A camera needs a name.")})
    return name


def _encrypted_source(camera: Camera, url: str) -> str:
    url = url.strip()
    try:
        # The reader checks it again at every connect: a name may resolve elsewhere later.
        check_address(url)
    except AddressNotAllowed as refused:
        logger.info("camera address refused for household %s: %s", camera.account_id, refused.reason)
        raise ValidationError({"source_url": str(refused)}) from None
    return encrypt_for_account(camera.account_id, SOURCE_PURPOSE, url)


def camera_source_url(camera: Camera) -> str:
    """The decrypted stream address, for the ingest worker only (never for display or logs)."""
    return decrypt_for_account(camera.account_id, SOURCE_PURPOSE, camera.source_url_encrypted)


def camera_create(*, actor: Membership, name: str, kind: CameraKind, source_url: str = "") -> tuple[Camera, str | None]:
    """A new camera; for a push camera also its first token (returned once, stored hashed)."""
    _require_manager(actor)
    camera = Camera(account_id=actor.account_id, name=_clean_name(name), kind=kind)
    if kind == CameraKind.PULL:
        camera.source_url_encrypted = _encrypted_source(camera, source_url)
    try:
        with transaction.atomic():
            camera.save()
    except IntegrityError:
        raise ValidationError({"name": _("This household already has a camera with that name.")}) from None
    camera_created(camera)  # other apps' rows of the camera (its recording settings)
    if actor.sees_some_cameras_only:
        # Whoever adds a camera may see it, even when limited to some cameras.
        CameraAccess.objects.create(account_id=actor.account_id, membership=actor, camera=camera)
    token = issue_token(camera=camera) if kind == CameraKind.PUSH else None
    return camera, token


def camera_update(
    *,
    actor: Membership,
    camera: Camera,
    name: str | None = None,
    enabled: bool | None = None,
    source_url: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Camera:
    """Change the camera, and the settings other apps keep for it (``devices.extensions``:
    retention and motion tuning), all or nothing."""
    _require_manager(actor)
    if name is not None:
        camera.name = _clean_name(name)
    if source_url:
        if camera.kind != CameraKind.PULL:
            raise ValidationError({"source_url": _("Only pull cameras have a stream address.")})
        camera.source_url_encrypted = _encrypted_source(camera, source_url)
    if enabled is not None and enabled != camera.enabled:
        camera.enabled = enabled
        if not enabled:
            camera.status, camera.live_fps = CameraStatus.OFFLINE, 0
            close_sockets_on_commit(camera_control_group(camera.pk), reason="camera disabled")
    try:
        with transaction.atomic():
            settings_save(camera, settings or {})
            camera.save()
    except IntegrityError:
        raise ValidationError({"name": _("This household already has a camera with that name.")}) from None
    return camera


def camera_delete(*, actor: Membership, camera: Camera) -> None:
    _require_manager(actor)
    close_sockets_on_commit(camera_control_group(camera.pk), reason="camera deleted")
    # Other apps' rows cascade with the camera; their hooks clean the rest (clips' files).
    camera_deleting(camera)
    camera.delete()


def token_rotate(*, actor: Membership, camera: Camera) -> str:
    """Revoke the camera's tokens and issue a new one (returned once)."""
    token_revoke(actor=actor, camera=camera)
    return issue_token(camera=camera)


def token_revoke(*, actor: Membership, camera: Camera) -> None:
    _require_manager(actor)
    if camera.kind != CameraKind.PUSH:
        raise ValidationError(_("Pull cameras have no token: the server reads their stream."))
    DeviceToken.objects.filter(camera=camera, revoked_at__isnull=True).update(revoked_at=timezone.now())
    close_sockets_on_commit(device_control_group(camera.pk), reason="token revoked")


@transaction.atomic
def camera_access_set(*, actor: Membership, membership: Membership, limited: bool, cameras: list[Camera]) -> None:
    """An owner limits a member or viewer to ``cameras`` (``limited``), or lets them see
    every camera, new ones included. Their open live views of the cameras taken away
    close once this commits."""
    actor_account_id(actor)
    if not actor.is_owner:
        raise PermissionDenied(_("Only an owner chooses which cameras someone sees."))
    if membership.is_owner:
        raise ValidationError(_("Owners always see every camera."))
    chosen = {camera.pk for camera in cameras} if limited else set()
    membership.camera_access_limited = limited
    membership.save(update_fields=["camera_access_limited"])
    CameraAccess.objects.filter(membership=membership).exclude(camera_id__in=chosen).delete()
    kept = set(CameraAccess.objects.filter(membership=membership).values_list("camera_id", flat=True))
    CameraAccess.objects.bulk_create(
        CameraAccess(account_id=membership.account_id, membership=membership, camera_id=camera_id)
        for camera_id in chosen - kept
    )
    if limited:
        # Every other camera, not only those granted before: a view opened in a race
        # with an earlier change is closed too. The consumer's re-check is the safety net.
        others = Camera.objects.exclude(pk__in=chosen).values_list("pk", flat=True)
        groups = [camera_viewer_group(membership.pk, camera_id) for camera_id in others]
        if groups:
            close_sockets_on_commit(*groups, reason="camera access changed")


def device_report(*, camera_id: uuid.UUID, status: CameraStatus, fps: float | None = None, message: str = "") -> None:
    """What a camera or the ingest worker says about a camera's stream (inside its scope)."""
    changes: dict[str, Any] = {"status": status, "status_message": message[:200]}
    if status == CameraStatus.ONLINE:
        changes["last_seen_at"] = timezone.now()
    if fps is not None:
        changes["live_fps"] = round(fps, 1)
    elif status != CameraStatus.ONLINE:
        changes["live_fps"] = 0
    Camera.objects.filter(pk=camera_id).update(**changes)


def device_heartbeat(*, principal: DevicePrincipal) -> Camera:
    """The camera is online. Runs in its household's scope (its route opens it)."""
    require_account_scope(principal.account_id)
    device_report(camera_id=principal.camera_id, status=CameraStatus.ONLINE)
    return Camera.objects.get(pk=principal.camera_id)


# Support actions (the support admin): the household is told of each one.


def camera_disable_by_support(*, staff: User, camera: Camera) -> bool:
    """Disable the camera (its live views and device socket close), as the portal's switch
    does. Returns whether it was enabled. Runs in the camera's household scope (the admin
    action opens it)."""
    require_account_scope(camera.account_id)
    camera = Camera.objects.select_for_update().get(pk=camera.pk)
    if not camera.enabled:
        return False
    camera.enabled = False
    camera.status, camera.live_fps = CameraStatus.OFFLINE, 0
    camera.save(update_fields=["enabled", "status", "live_fps"])
    close_sockets_on_commit(camera_control_group(camera.pk), reason="camera disabled by support")
    staff_action_record(staff=staff, account_id=camera.account_id, summary=f"disabled camera “{camera.name}”")
    return True


def token_revoke_by_support(*, staff: User, camera: Camera) -> int:
    """Revoke the camera's device tokens (the camera is disconnected until an owner or
    member issues a new one). Returns how many were revoked. Runs in the camera's household
    scope (the admin action opens it)."""
    require_account_scope(camera.account_id)
    if camera.kind != CameraKind.PUSH:
        raise ValidationError(_("Pull cameras have no token: the server reads their stream."))
    revoked = DeviceToken.objects.filter(camera_id=camera.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not revoked:
        return 0
    close_sockets_on_commit(device_control_group(camera.pk), reason="token revoked by support")
    staff_action_record(
        staff=staff, account_id=camera.account_id, summary=f"revoked the device token of camera “{camera.name}”"
    )
    return revoked
