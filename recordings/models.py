"""Recorded clips, their motion events, uploads in progress, and each household's data key.

Every row belongs to a household (``TenantModel``, scoped managers, RLS, and
same-account foreign keys in ``migrations/0002_tenancy_backstop.py``). A clip's
bytes live encrypted in ``recordings.storage`` under a name built from the
household's id and the recording's id only.
"""

import uuid
from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Membership
from accounts.tenancy import AccountRowManager, TenantModel
from devices.models import Camera


class StorageKey(TenantModel):
    """The household's data key, wrapped by the master key (``recordings.storage.keys``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="+")
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountRowManager["StorageKey"]()

    def __str__(self) -> str:
        return f"data key of {self.account_id}"


# The allowed ranges of a camera's recording settings: the model, the camera's form and
# API fields (recordings/camera_settings.py) and the service read them from here.
RETENTION_DAYS_RANGE = (1, 3650)
MOTION_SENSITIVITY_RANGE = (0, 1)
MOTION_MIN_AREA_PERCENT_RANGE = (0.01, 50)
SEGMENT_SECONDS_RANGE = (10, 600)
PRE_ROLL_SECONDS_RANGE = (0, 30)
POST_ROLL_SECONDS_RANGE = (0, 120)


class RecordMode(models.TextChoices):
    """When the recorder records a pull camera (push cameras send their own clips)."""

    MOTION = "motion", _("On motion")
    CONTINUOUS = "continuous", _("Continuously")
    OFF = "off", _("Never")


def _within(bounds: tuple[float, float]) -> list[MinValueValidator | MaxValueValidator]:
    return [MinValueValidator(bounds[0]), MaxValueValidator(bounds[1])]


class CameraRecordingSettings(TenantModel):
    """How a camera's clips are kept and analysed; one row per camera, made with it.

    Shown and changed on the camera's page and API through ``devices.extensions``.
    """

    camera = models.OneToOneField(Camera, primary_key=True, on_delete=models.CASCADE, related_name="recording_settings")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    # Kept this many days (the retention task prunes older clips).
    retention_days = models.PositiveSmallIntegerField(default=30, validators=_within(RETENTION_DAYS_RANGE))
    # Motion tuning (recordings.video.MotionSettings): 0..1, higher finds fainter changes.
    motion_sensitivity = models.FloatField(default=0.5, validators=_within(MOTION_SENSITIVITY_RANGE))
    # The share of the picture that must change to count as motion, in percent.
    motion_min_area_percent = models.FloatField(default=0.2, validators=_within(MOTION_MIN_AREA_PERCENT_RANGE))
    # Pull cameras (recordings.recorder): when to record, in clips of about this length,
    # from this long before the first motion until this long after the last.
    record_mode = models.CharField(max_length=12, choices=RecordMode.choices, default=RecordMode.MOTION)
    segment_seconds = models.PositiveSmallIntegerField(default=60, validators=_within(SEGMENT_SECONDS_RANGE))
    pre_roll_s = models.FloatField(default=5.0, validators=_within(PRE_ROLL_SECONDS_RANGE))
    post_roll_s = models.FloatField(default=10.0, validators=_within(POST_ROLL_SECONDS_RANGE))

    objects = AccountRowManager["CameraRecordingSettings"]()

    def __str__(self) -> str:
        return f"recording settings of {self.camera_id}"


class ClipContainer(models.TextChoices):
    """How the stored clip is wrapped: MP4 (uploaded, or remuxed from MPEG-TS or Matroska), or WebM as uploaded."""

    MP4 = "mp4", "MP4"
    WEBM = "webm", "WebM"


class RecordingStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Recording(TenantModel):
    """One clip of one camera. Exists only once its bytes are stored and verified."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="recordings")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=RecordingStatus.choices, default=RecordingStatus.UPLOADED)
    # Readable by the household: why processing failed.
    failure_reason = models.CharField(max_length=300, blank=True)
    # The stored clip: plaintext size and SHA-256 (as uploaded, or after the faststart remux).
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The SHA-256 the camera uploaded, kept when processing remuxes the clip: a retried creation
    # with the same Idempotency-Key is compared with it. '' for rows from before it was kept.
    upload_sha256 = models.CharField(max_length=64, blank=True, default="")
    # Bytes taken in storage by the clip and its thumbnail (ciphertext): what the quota counts.
    stored_bytes = models.BigIntegerField(default=0)
    # Retries of the same upload (same camera, same key) return this recording.
    idempotency_key = models.CharField(max_length=100, blank=True)
    # What processing found.
    duration_s = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=40, blank=True)
    container = models.CharField(max_length=8, choices=ClipContainer.choices, default=ClipContainer.MP4)
    # False for a READY clip whose video browsers cannot play (H.265, High 10 …): "download to play".
    playable_in_browser = models.BooleanField(default=True)
    # Readable by the household: why the browser cannot play it ('' when it can).
    not_playable_reason = models.CharField(max_length=300, blank=True)
    # Readable by the household: what processing could not keep of a READY clip (damage, sound left out).
    warning = models.CharField(max_length=300, blank=True)
    # The three sentences above as msgids and parameters, for pages to show in the reader's language:
    # JSON {"failure" | "not_playable" | "warning": {"msgid": ..., "params": {...}}}. NULL for rows from
    # before it was kept, and a sentence missing from it, are shown as the stored English.
    reasons_json = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001 - NULL: from before
    motion_score = models.FloatField(default=0)
    has_motion = models.BooleanField(default=False)
    has_thumbnail = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The processing claim (recordings.processing): which attempt holds the clip, and when it last
    # said it was alive. One attempt at a time; another may take over only once the claim is stale.
    processing_attempts = models.PositiveIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)

    objects = AccountRowManager["Recording"]()
    motion_events: "models.Manager[MotionEvent]"

    class Meta:
        ordering: ClassVar = ("-started_at", "-id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["id", "account"], name="recording_id_account"),
            models.UniqueConstraint(
                fields=["camera", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="recording_idempotency_key_per_camera",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")), name="recording_ends_after_start"
            ),
        ]
        indexes: ClassVar = [
            # Keyset pages of a household's clips, newest first, optionally per camera.
            models.Index(fields=["account", "-started_at", "-id"], name="recording_account_time"),
            models.Index(fields=["account", "camera", "-started_at", "-id"], name="recording_camera_time"),
            # The requeue's minute scan of every household: only clips being processed, a handful.
            models.Index(
                fields=["processing_started_at"],
                condition=models.Q(status="processing"),
                name="recording_processing_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_ready(self) -> bool:
        return self.status == RecordingStatus.READY


class MotionEvent(TenantModel):
    """A span of a recording with motion, in wall-clock time, and its strength (0..1)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="motion_events")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    score = models.FloatField()

    objects = AccountRowManager["MotionEvent"]()

    class Meta:
        ordering: ClassVar = ("started_at",)
        indexes: ClassVar = [
            models.Index(fields=["account", "recording"], name="motionevent_recording"),
            # The events list: the household's events newest first, keyset on (started_at, id).
            models.Index(fields=["account", "-started_at", "-id"], name="motionevent_account_time"),
        ]

    def __str__(self) -> str:
        return f"motion {self.started_at:%H:%M:%S} ({self.score:.2f})"


class Upload(TenantModel):
    """A resumable upload in progress (tus protocol, ``recordings/upload/``).

    The bytes received so far are sealed chunks of an encrypted file under
    ``.partial/`` (never plaintext). Completing it verifies the SHA-256 and
    creates the ``Recording``; an expired upload is removed with its file.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="uploads")
    # The recording's id, chosen now: the encrypted chunks are bound to it.
    recording_id = models.UUIDField(default=uuid.uuid4, unique=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = AccountRowManager["Upload"]()

    class Meta:
        ordering: ClassVar = ("created_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["camera", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="upload_idempotency_key_per_camera",
            ),
        ]

    def __str__(self) -> str:
        return f"upload {self.id} ({self.offset}/{self.length})"


class RecorderLease(TenantModel):
    """Which recorder process holds a camera, until when (``recordings.recorder.lease``).

    A camera caps its stream sessions, so one process reads it, for recording and live
    view both. The times are the database's clock, the one every host shares.
    """

    camera = models.OneToOneField(Camera, primary_key=True, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    holder = models.CharField(max_length=200)  # host, pid and a random part: one recorder's run
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    objects = AccountRowManager["RecorderLease"]()

    def __str__(self) -> str:
        return f"recorder lease of {self.camera_id}"


# How long a share link may live: the owner picks one of these; nothing longer is accepted.
SHARE_LINK_LIFETIMES = {"1h": (_("1 hour"), 3600), "1d": (_("1 day"), 86400), "7d": (_("7 days"), 7 * 86400)}
SHARE_LINK_MAX_SECONDS = 7 * 86400


class ShareLink(TenantModel):
    """A link that shows one clip to whoever holds it (``recordings.sharing``).

    Only the SHA-256 of the link's secret is stored; the secret is shown once, in the
    page that created it. It expires (at most 7 days after it was made) and can be
    revoked; it reaches its one clip and nothing else of the household.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    # The database refuses a clip or a membership of another household here (SameAccountForeignKey).
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="share_links")
    # Who made it; a person who leaves the household takes their links with them.
    created_by = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    created_by_label = models.CharField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    objects = AccountRowManager["ShareLink"]()

    class Meta:
        ordering: ClassVar = ("-created_at",)
        indexes: ClassVar = [models.Index(fields=["account", "recording"], name="sharelink_recording")]

    def __str__(self) -> str:
        return f"share link {self.id} of {self.recording_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
