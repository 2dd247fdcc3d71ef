"""Writes of support grants: an owner gives one, and ends it (inside the household's scope)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.realtime import close_sockets_on_commit
from devices.models import Camera
from support.groups import grant_group
from support.models import SupportGrant, SupportGrantCamera


def grant_create(*, actor: Membership, reason: str, hours: int, cameras: list[Camera] | None) -> SupportGrant:
    """A grant of the whole household (``cameras`` None) or of some of its cameras."""
    if not actor.is_owner:
        raise PermissionDenied(_("Only an owner can give support access."))
    longest = settings.NVR_SUPPORT_GRANT_MAX_HOURS
    if not 1 <= hours <= longest:
        raise ValidationError(_("A grant lasts from 1 to %(count)d hours.") % {"count": longest})
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why support needs access (it is shown to everyone in the household)."))
    if cameras is not None and not cameras:
        raise ValidationError(_("Choose at least one camera, or the whole household."))
    if cameras and any(camera.account_id != actor.account_id for camera in cameras):
        raise ValidationError(_("Choose cameras of this household."))
    now = timezone.now()
    grant = SupportGrant.objects.create(
        account_id=actor.account_id,
        granted_by=actor.user,
        granted_by_label=actor.user.display_name,
        reason=reason[:300],
        all_cameras=cameras is None,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    SupportGrantCamera.objects.bulk_create(
        SupportGrantCamera(account_id=actor.account_id, grant=grant, camera=camera) for camera in cameras or []
    )
    return grant


def grant_end(*, actor: Membership, grant: SupportGrant) -> None:
    """End it now: its pages answer 404 at once, its open sockets close once this commits."""
    if not actor.is_owner:
        raise PermissionDenied(_("Only an owner can end support access."))
    if grant.ended_at is not None:
        return
    grant.ended_at = timezone.now()
    grant.ended_by_label = actor.user.display_name
    grant.save(update_fields=["ended_at", "ended_by_label"])
    close_sockets_on_commit(grant_group(grant.pk), reason="support access ended")
