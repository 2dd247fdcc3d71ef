"""Users, households (accounts), memberships and access events.

``Account`` is the tenant. Every other household-owned row carries ``account``
directly and uses a scoped default manager (see ``accounts/tenancy.py``).
"""

import uuid
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext.db.models.manager import RelatedManager

from accounts.tenancy import (
    AccountManager,
    AccountRowManager,
    OwnMembershipManager,
    PendingInvitationManager,
    TenantModel,
    TenantScopedModel,
)


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Belongs to households through ``Membership``; not tenant-owned."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Support staff: may sign in to the support admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    # Invitations reach a person only through an address they have proved is theirs.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # An IANA zone the person chose ("": their browser's, else the site's; accounts/timezones.py).
    time_zone = models.CharField(max_length=64, blank=True)
    # A language of settings.LANGUAGES the person chose ("": their browser's; accounts/languages.py).
    language = models.CharField(max_length=8, blank=True)

    objects: ClassVar[UserManager] = UserManager()
    memberships: "RelatedManager[Membership]"

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def verified_email(self) -> str | None:
        return self.email if self.email_verified_at else None


def default_storage_quota() -> int:
    return int(settings.NVR_DEFAULT_STORAGE_QUOTA_GB * 1024**3)


class Account(TenantScopedModel):
    """A household: the tenant. Its rows are visible only inside its scope."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    # Recordings beyond this are pruned, oldest first (recordings.retention).
    storage_quota_bytes = models.BigIntegerField(default=default_storage_quota)
    # Owners may require everyone in the household to have a second factor before they see anything.
    require_second_factor = models.BooleanField(default=False)

    # The scope dimension "account" filters this table on its own primary key.
    objects = AccountManager["Account"]()
    memberships: "RelatedManager[Membership]"
    access_events: "RelatedManager[AccessEvent]"
    invitations: "RelatedManager[Invitation]"

    class Meta:
        ordering = ("name",)
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.name

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.id


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")


ROLE_HELP = {
    Role.OWNER: _("manages members, cameras and recordings"),
    Role.MEMBER: _("manages cameras and recordings"),
    Role.VIEWER: _("watches live and recorded video"),
}


class Membership(TenantModel):
    """A user's place in a household, with a role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)
    # When the user last made this household their active one (picks it at sign-in).
    last_active_at = models.DateTimeField(default=timezone.now)
    # Limited to the cameras an owner chose (their rows live in devices, which builds
    # on accounts); otherwise every camera, new ones included. Owners never are.
    camera_access_limited = models.BooleanField(default=False)

    objects = AccountRowManager["Membership"]()
    # A signed-in user's own memberships, across households (scope dimension "user").
    of_user = OwnMembershipManager["Membership"]()
    access_events: "RelatedManager[AccessEvent]"

    class Meta:
        ordering = ("created_at",)
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="membership_one_per_user_and_account"),
            # Target of composite foreign keys from child rows (same-account integrity).
            models.UniqueConstraint(fields=["id", "account"], name="membership_id_account"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.account_id} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def role_description(self) -> str:
        return str(ROLE_HELP[Role(self.role)])

    @property
    def can_manage_cameras(self) -> bool:
        """Add, change and delete cameras and their tokens (owners and members)."""
        return self.role in (Role.OWNER, Role.MEMBER)

    @property
    def can_delete_recordings(self) -> bool:
        """Delete clips (owners and members; viewers only watch)."""
        return self.role in (Role.OWNER, Role.MEMBER)

    @property
    def sees_some_cameras_only(self) -> bool:
        """True when this person sees only the cameras an owner chose for them."""
        return self.camera_access_limited and not self.is_owner


def _invitation_expiry() -> "datetime":
    return timezone.now() + INVITATION_LIFETIME


INVITATION_LIFETIME = timedelta(days=14)
# The inviter of an operator's invitation (manage.py): stored in English, shown in the reader's language.
OPERATORS_LABEL = "The site's operators"


class Invitation(TenantModel):
    """An owner's offer of a role to an email address; a membership exists only
    once the person with that (verified) address accepts it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Shown to the invitee, who cannot read the household's own rows before joining.
    household_name = models.CharField(max_length=100)
    inviter_label = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_invitation_expiry)

    objects = AccountRowManager["Invitation"]()
    # Invitations addressed to the signed-in user's verified email (scope dimension "invitee").
    for_invitee = PendingInvitationManager["Invitation"]()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [models.UniqueConstraint(fields=["account", "email"], name="invitation_one_per_email")]

    def __str__(self) -> str:
        return f"{self.email} to {self.household_name} as {self.role}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def inviter_display(self) -> str:
        """Who invited, for people: a person's name, or the operators in the reader's language."""
        return str(_("The site's operators")) if self.inviter_label == OPERATORS_LABEL else self.inviter_label


class AccessKind(models.TextChoices):
    LIVE_START = "live_start", _("Started watching live")
    LIVE_END = "live_end", _("Stopped watching live")
    CLIP_PLAY = "clip_play", _("Played a clip")
    CLIP_DOWNLOAD = "clip_download", _("Downloaded a clip")
    THUMBNAIL = "thumbnail", _("Viewed a thumbnail")
    SNAPSHOT = "snapshot", _("Saved a picture of live video")
    SHARE_VIEW = "share_view", _("Opened a shared clip")


class AccessVia(models.TextChoices):
    MEMBER = "member", _("Household member")
    SUPPORT = "support", _("Support staff (under a grant)")
    LINK = "link", _("Shared link")


class AccessEvent(TenantModel):
    """One view of a household's video, readable by that household.

    Written only through ``accounts.audit.record_access``. ``actor_label`` keeps
    who it was after the user or membership is gone.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="access_events")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The database refuses a membership of another household here (SameAccountForeignKey).
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="access_events"
    )
    actor_label = models.CharField(max_length=254)
    via = models.CharField(max_length=10, choices=AccessVia.choices)
    kind = models.CharField(max_length=20, choices=AccessKind.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.UUIDField()
    object_label = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AccountRowManager["AccessEvent"]()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        indexes = [models.Index(fields=["account", "-created_at"], name="accessevent_account_time")]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.kind} {self.object_type} {self.object_id}"


class SupportAuditEntry(TenantModel):
    """One thing support staff did to, or read of, a household: its audit log.

    Append-only: written only through ``accounts.support_audit``, never changed
    (``save`` refuses updates, and on PostgreSQL a trigger refuses UPDATE too).
    The household reads it in its access history; ``staff_label`` keeps who it
    was after the staff account is gone.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    # Not a foreign key: deleting a staff account must not rewrite (update) the log.
    staff_id = models.UUIDField(null=True, blank=True)
    staff_label = models.CharField(max_length=254)
    is_action = models.BooleanField(default=False)  # a change (emailed to the owners), not a read
    summary = models.CharField(max_length=300)  # "looked at your camera list"
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AccountRowManager["SupportAuditEntry"]()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("support audit entry")
        verbose_name_plural = _("support audit entries")
        indexes = [models.Index(fields=["account", "-created_at"], name="supportaudit_account_time")]

    def __str__(self) -> str:
        return f"{self.staff_label}: {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("The support audit log is append-only.")
        super().save(*args, **kwargs)
