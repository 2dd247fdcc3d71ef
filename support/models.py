"""A household's time-limited grant to support staff, and the cameras it covers.

Support staff see a household's video only through an active grant, in the
support viewer (``support/views/viewer.py``), never as a member.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, User
from accounts.tenancy import AccountRowManager, TenantModel
from devices.models import Camera


class SupportGrant(TenantModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    granted_by_label = models.CharField(max_length=254)
    reason = models.CharField(max_length=300)
    # Every camera of the household, including ones added while the grant lasts.
    all_cameras = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_label = models.CharField(max_length=254, blank=True)

    objects = AccountRowManager["SupportGrant"]()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("support grant")
        verbose_name_plural = _("support grants")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="support_grant_expires_after_start"
            ),
            models.UniqueConstraint(fields=["id", "account"], name="support_grant_id_account"),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None and self.expires_at > timezone.now()


class SupportGrantCamera(TenantModel):
    """One camera a grant covers (when it does not cover them all)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    grant = models.ForeignKey(SupportGrant, on_delete=models.CASCADE, related_name="grant_cameras")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")

    objects = AccountRowManager["SupportGrantCamera"]()

    class Meta:
        verbose_name = _("camera covered by a support grant")
        verbose_name_plural = _("cameras covered by support grants")
        constraints = [models.UniqueConstraint(fields=["grant", "camera"], name="support_grant_camera_once")]

    def __str__(self) -> str:
        return f"{self.grant_id} covers {self.camera_id}"
