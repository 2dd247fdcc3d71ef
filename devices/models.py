"""Cameras, their device tokens, and who is watching live now."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Membership, User
from accounts.tenancy import AccountRowManager, TenantModel


class CameraKind(models.TextChoices):
    PUSH = "push", _("Push (the camera sends frames and clips)")
    PULL = "pull", _("Pull (the server reads an RTSP, HTTP or MJPEG address)")


class CameraStatus(models.TextChoices):
    OFFLINE = "offline", _("Offline")
    ONLINE = "online", _("Online")
    ERROR = "error", _("Error")


class Camera(TenantModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="cameras")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=CameraKind.choices, default=CameraKind.PUSH)
    # Pull cameras: the stream address, credentials included, encrypted with the
    # household's key (accounts/crypto.py). Never shown back, never logged.
    source_url_encrypted = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=CameraStatus.choices, default=CameraStatus.OFFLINE)
    status_message = models.CharField(max_length=200, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    live_fps = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # Recording settings (retention, motion tuning) are recordings' own: CameraRecordingSettings.

    objects = AccountRowManager["Camera"]()

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="camera_name_per_account"),
            models.UniqueConstraint(fields=["id", "account"], name="camera_id_account"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_online(self) -> bool:
        return self.status == CameraStatus.ONLINE


class DeviceToken(TenantModel):
    """A camera's credential. Only a hash of the secret is stored; the token is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="tokens")
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = AccountRowManager["DeviceToken"]()

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"token {self.id} of camera {self.camera_id}"


class LiveSession(TenantModel):
    """An open live view: who is watching which camera now (one row per socket)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="live_sessions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    # Refreshed while the socket is open; rows not refreshed for a minute are stale
    # (a process that died could not delete them).
    seen_at = models.DateTimeField(default=timezone.now)
    # The browser plays H.264 as MP4 (Media Source Extensions); else it needs JPEG pictures,
    # which a pull worker makes (decoding) only while such a viewer watches.
    plays_mp4 = models.BooleanField(default=False)
    plays_hevc = models.BooleanField(default=False)  # H.265 too

    objects = AccountRowManager["LiveSession"]()

    class Meta:
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        ordering = ("started_at",)

    def __str__(self) -> str:
        return f"{self.user_id} watching {self.camera_id}"


class CameraAccess(TenantModel):
    """One camera that a member limited to some cameras may see.

    Read only while their ``Membership.camera_access_limited`` is set (owners are
    never limited); ``devices.selectors.cameras_visible`` is the one place that
    applies it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)

    objects = AccountRowManager["CameraAccess"]()

    class Meta:
        ordering = ("granted_at",)
        constraints = [
            models.UniqueConstraint(fields=["membership", "camera"], name="camera_access_once_per_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} may see {self.camera_id}"
