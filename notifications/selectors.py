"""Reads: a person's settings, and who may hear of a camera now."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings

from accounts.crypto import decrypt_for_account
from accounts.models import Membership
from accounts.timezones import zone
from devices.models import Camera
from devices.selectors import cameras_visible
from notifications.models import CameraSubscription, NotificationSettings, PushSubscription
from notifications.push import Subscription

WEBHOOK_URL = "notifications:webhook-url"
WEBHOOK_SECRET = "notifications:webhook-secret"  # noqa: S105 (a key-derivation purpose, not a secret)
PUSH_SUBSCRIPTION = "notifications:push-subscription"


def settings_of(*, membership: Membership) -> NotificationSettings | None:
    return NotificationSettings.objects.filter(membership=membership).first()


def subscribed_camera_ids(*, membership: Membership) -> set[str]:
    """The cameras ticked on the page: only those the person may still see."""
    visible = cameras_visible(viewer=membership).values("pk")
    rows = CameraSubscription.objects.filter(membership=membership, camera__in=visible)
    return {str(camera_id) for camera_id in rows.values_list("camera_id", flat=True)}


def webhook_url_of(row: NotificationSettings) -> str:
    if not row.webhook_url_encrypted:
        return ""
    return decrypt_for_account(row.account_id, WEBHOOK_URL, row.webhook_url_encrypted)


def webhook_secret_of(row: NotificationSettings) -> str:
    if not row.webhook_secret_encrypted:
        return ""
    return decrypt_for_account(row.account_id, WEBHOOK_SECRET, row.webhook_secret_encrypted)


def push_subscriptions_of(*, membership: Membership) -> list[PushSubscription]:
    """The person's own browsers, newest first (never another person's)."""
    return list(PushSubscription.objects.filter(membership=membership).order_by("-created_at", "pk"))


def push_target_of(row: PushSubscription) -> Subscription:
    return Subscription.from_json(decrypt_for_account(row.account_id, PUSH_SUBSCRIPTION, row.subscription_encrypted))


def zone_of_member(membership: Membership) -> ZoneInfo:
    """The person's chosen zone, else the site's."""
    return zone(membership.user.time_zone) or ZoneInfo(django_settings.TIME_ZONE)


def in_quiet_hours(*, start: time | None, end: time | None, at: datetime, tz: ZoneInfo) -> bool:
    """Whether ``at`` falls in [start, end) in ``tz``; a span past midnight (22:00-07:00) wraps."""
    if start is None or end is None or start == end:
        return False
    local = at.astimezone(tz).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def listeners(*, camera: Camera, at: datetime) -> list[tuple[Membership, NotificationSettings]]:
    """Who hears of ``camera`` at ``at``: subscribed (all cameras, or this one), a channel on
    (email, webhook, or a browser subscribed to push),
    the camera visible to them now (a stale subscription to a camera since kept from them
    counts for nothing), and not in their quiet hours. Call in the camera's household scope."""
    found = []
    pushing = set(PushSubscription.objects.values_list("membership_id", flat=True))
    rows = NotificationSettings.objects.select_related("membership__user").order_by("pk")
    ticked = set(CameraSubscription.objects.filter(camera=camera).values_list("membership_id", flat=True))
    for row in rows:
        membership = row.membership
        if not (row.email_enabled or row.webhook_enabled or membership.pk in pushing):
            continue
        if not (row.all_cameras or membership.pk in ticked):
            continue
        if not cameras_visible(viewer=membership).filter(pk=camera.pk).exists():
            continue
        if in_quiet_hours(start=row.quiet_start, end=row.quiet_end, at=at, tz=zone_of_member(membership)):
            continue
        found.append((membership, row))
    return found
