"""Who hears of motion, how, and when not; and when each camera last notified.

All three are household rows (``TenantModel``): row-level security and the
same-household foreign keys are added by the migration like every tenant table.
"""

import uuid
from datetime import UTC, datetime

from django.db import models
from django.utils import timezone

from accounts.models import Account, Membership
from accounts.tenancy import AccountRowManager, TenantModel
from devices.models import Camera


class NotificationSettings(TenantModel):
    """One person's choices in one household. No row: they hear nothing (opt in)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    # Every camera they may see (new ones included); else the cameras in CameraSubscription.
    all_cameras = models.BooleanField(default=False)
    email_enabled = models.BooleanField(default=False)
    webhook_enabled = models.BooleanField(default=False)
    # Encrypted with the household's key (accounts.crypto): the address may carry a token,
    # and the secret must stay server-side to sign (HMAC), so it is encrypted, not hashed.
    webhook_url_encrypted = models.TextField(blank=True, default="")
    webhook_secret_encrypted = models.TextField(blank=True, default="")
    # In the person's time zone (User.time_zone, else TIME_ZONE). Equal or empty: none.
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = AccountRowManager["NotificationSettings"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership"], name="notification_settings_once_per_membership"),
        ]

    def __str__(self) -> str:
        return f"notification settings of {self.membership_id}"


class CameraSubscription(TenantModel):
    """A camera one person chose to hear of (when not ``all_cameras``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")

    objects = AccountRowManager["CameraSubscription"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "camera"], name="camera_subscription_once"),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} hears of {self.camera_id}"


NEVER = datetime(2000, 1, 1, tzinfo=UTC)  # a camera that never notified


class CameraNotice(TenantModel):
    """When a camera last notified: the per-camera rate limit, claimed by a conditional UPDATE."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    last_sent_at = models.DateTimeField()

    objects = AccountRowManager["CameraNotice"]()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["camera"], name="camera_notice_once_per_camera")]

    def __str__(self) -> str:
        return f"{self.camera_id} last notified at {self.last_sent_at}"


class PushSubscription(TenantModel):
    """One browser of one person that asked for Web Push (a person may have several).

    The endpoint and keys are a capability (whoever holds them, with the site's VAPID key,
    can push to the browser): encrypted with the household's key; the hash makes a browser
    that subscribes again one row, not two."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    endpoint_sha256 = models.CharField(max_length=64)
    subscription_encrypted = models.TextField()  # JSON: endpoint, p256dh, auth
    label = models.CharField(max_length=80, blank=True, default="")  # "Firefox on Linux", to tell them apart
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountRowManager["PushSubscription"]()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "endpoint_sha256"], name="push_subscription_once"),
        ]

    def __str__(self) -> str:
        return f"push subscription {self.pk} of {self.membership_id}"
