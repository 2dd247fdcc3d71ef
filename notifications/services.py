"""Writes: a person's notification settings, the per-camera claim, and what to send.

Messages carry the minimum the person may see: the camera's name, the time of the
motion and a link to the clip on ``SITE_URL`` (which only household members can
open). The email also names the household (a person may belong to several); the
webhook, which leaves the site for an address of the person's choosing, does not.
"""

import json
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.crypto import encrypt_for_account
from accounts.languages import language_of_user
from accounts.models import Membership
from devices.models import Camera
from devices.selectors import cameras_visible
from notifications.models import NEVER, CameraNotice, CameraSubscription, NotificationSettings
from notifications.selectors import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    listeners,
    webhook_secret_of,
    webhook_url_of,
    zone_of_member,
)
from notifications.webhooks import AddressNotAllowed, Outcome, post, webhook_address_check
from recordings.models import MotionEvent, Recording, RecordingStatus

logger = logging.getLogger("nvr.notifications")


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def notification_settings_update(
    *,
    actor: Membership,
    all_cameras: bool,
    cameras: list[Camera],
    email_enabled: bool,
    webhook_enabled: bool,
    webhook_url: str,
    quiet_start: time | None,
    quiet_end: time | None,
) -> tuple[NotificationSettings, str | None]:
    """Save ``actor``'s own choices. Returns the row and the webhook secret when one was just
    made (shown once). Cameras ``actor`` may not see are dropped; a webhook address the
    server may not reach is a ``ValidationError`` with the same sentence as a camera's."""
    webhook_url = webhook_url.strip()
    if webhook_url:
        try:
            webhook_address_check(webhook_url)
        except AddressNotAllowed as refused:
            raise ValidationError({"webhook_url": str(refused)}) from None
    if webhook_enabled and not webhook_url:
        raise ValidationError({"webhook_url": _("Give the address to send to, or turn the webhook off.")})
    visible = set(cameras_visible(viewer=actor).filter(pk__in=[c.pk for c in cameras]).values_list("pk", flat=True))
    row, _created = NotificationSettings.objects.get_or_create(account_id=actor.account_id, membership=actor)
    row.all_cameras, row.email_enabled, row.webhook_enabled = all_cameras, email_enabled, webhook_enabled
    row.quiet_start, row.quiet_end = quiet_start, quiet_end
    row.webhook_url_encrypted = encrypt_for_account(actor.account_id, WEBHOOK_URL, webhook_url) if webhook_url else ""
    new_secret = None
    if webhook_url and not row.webhook_secret_encrypted:
        new_secret = _new_secret()
        row.webhook_secret_encrypted = encrypt_for_account(actor.account_id, WEBHOOK_SECRET, new_secret)
    row.updated_at = timezone.now()
    row.save()
    CameraSubscription.objects.filter(membership=actor).exclude(camera_id__in=visible).delete()
    have = set(CameraSubscription.objects.filter(membership=actor).values_list("camera_id", flat=True))
    CameraSubscription.objects.bulk_create(
        CameraSubscription(account_id=actor.account_id, membership=actor, camera_id=camera_id)
        for camera_id in sorted(visible - have, key=str)
    )
    return row, new_secret


def webhook_secret_rotate(*, actor: Membership) -> str:
    """A new signing secret for ``actor``'s webhook, returned once (stored encrypted)."""
    row, _created = NotificationSettings.objects.get_or_create(account_id=actor.account_id, membership=actor)
    secret = _new_secret()
    row.webhook_secret_encrypted = encrypt_for_account(actor.account_id, WEBHOOK_SECRET, secret)
    row.updated_at = timezone.now()
    row.save()
    return secret


def camera_notice_claim(*, camera: Camera, now: datetime) -> bool:
    """True for the one caller allowed to notify about ``camera`` now (at most one per
    ``NVR_NOTIFY_MIN_INTERVAL_S``). A conditional UPDATE: of two workers, the database
    lets one match the row; the other finds it already moved on."""
    CameraNotice.objects.get_or_create(account_id=camera.account_id, camera=camera, defaults={"last_sent_at": NEVER})
    cutoff = now - timedelta(seconds=django_settings.NVR_NOTIFY_MIN_INTERVAL_S)
    return CameraNotice.objects.filter(camera=camera, last_sent_at__lte=cutoff).update(last_sent_at=now) == 1


def motion_notify_enqueue(*, account_id: uuid.UUID, camera_id: uuid.UUID, recording_id: uuid.UUID) -> None:
    """One task per (camera, clip), once the clip's transaction has committed."""
    from notifications.tasks import notify_motion

    transaction.on_commit(lambda: notify_motion.delay(str(account_id), str(camera_id), str(recording_id)))


# recordings.extensions calls hooks after the commit already: this enqueues at once then.
clip_ready_notify_on_commit = motion_notify_enqueue


def clip_url(recording_id: uuid.UUID | str) -> str:
    return f"{django_settings.SITE_URL}{reverse('recordings:clip', args=[recording_id])}"


def _motion_time(recording: Recording) -> datetime:
    first = MotionEvent.objects.filter(recording=recording).order_by("started_at").first()
    return first.started_at if first is not None else recording.started_at


@dataclass
class Plan:
    """What one motion notification sends: built in the scope, sent after it."""

    emails: list[EmailMessage] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)  # membership ids


def motion_notify_plan(*, camera_id: str, recording_id: str, now: datetime | None = None) -> Plan:
    """In the household's scope: the clip (READY, with motion, of that camera) or nothing;
    the camera's claim; then one email per listener and the webhooks to enqueue."""
    now = now or timezone.now()
    recording = (
        Recording.objects.select_related("camera", "account")
        .filter(pk=recording_id, camera_id=camera_id, status=RecordingStatus.READY, has_motion=True)
        .first()
    )
    plan = Plan()
    if recording is None:
        return plan
    camera = recording.camera
    people = listeners(camera=camera, at=now)
    if not people or not camera_notice_claim(camera=camera, now=now):
        return plan
    when = _motion_time(recording)
    for membership, row in people:
        if row.email_enabled and membership.user.email:
            plan.emails.append(_motion_email(membership, camera=camera, recording=recording, when=when))
        if row.webhook_enabled and row.webhook_url_encrypted:
            plan.webhooks.append(str(membership.pk))
    return plan


def _motion_email(membership: Membership, *, camera: Camera, recording: Recording, when: datetime) -> EmailMessage:
    """In the recipient's language (no request to ask: their account's), dated in their zone."""
    local = when.astimezone(zone_of_member(membership))
    household = recording.account.name
    settings_url = f"{django_settings.SITE_URL}{reverse('notifications:settings')}"
    with translation.override(language_of_user(membership.user)):
        names = {"camera": camera.name, "household": household}
        moment = f"{formats.date_format(local, 'DATETIME_FORMAT')} {local:%Z}"
        subject = _("Motion: %(camera)s") % names
        body = "".join(
            [
                _("%(camera)s (%(household)s) saw motion at %(time)s.") % {**names, "time": moment},
                "\n\n",
                _("Watch the clip (sign in as a member of %(household)s):") % names,
                f"\n{clip_url(recording.pk)}\n\n",
                _("Change what you are told about, or when: %(url)s") % {"url": settings_url},
                "\n",
            ]
        )
    return EmailMessage(subject=subject, body=body, to=[membership.user.email])


def emails_send(emails: list[EmailMessage]) -> int:
    """Outside any transaction: a slow mail server holds no database lock."""
    sent = 0
    for message in emails:
        try:
            sent += message.send()
        except OSError:
            logger.warning("notification email not sent", exc_info=True)
    return sent


@dataclass(frozen=True)
class Delivery:
    url: str
    secret: str
    body: bytes


def webhook_delivery_get(*, membership_id: str, recording_id: str | None) -> Delivery | None:
    """In the household's scope: what to POST to the person's webhook now, or None (they left,
    turned it off, can no longer see the camera, or the clip is gone). ``recording_id`` None:
    the test message."""
    row = NotificationSettings.objects.select_related("membership").filter(membership_id=membership_id).first()
    if row is None or not row.webhook_url_encrypted or not row.webhook_secret_encrypted:
        return None
    payload: dict[str, str | None]
    if recording_id is None:
        payload = {"event": "test", "camera": None, "event_time": timezone.now().isoformat(), "clip_url": None}
    else:
        if not row.webhook_enabled:
            return None
        visible = cameras_visible(viewer=row.membership).values("pk")
        recording = (
            Recording.objects.select_related("camera")
            .filter(pk=recording_id, camera__in=visible, status=RecordingStatus.READY)
            .first()
        )
        if recording is None:
            return None
        payload = {
            "event": "motion",
            "camera": recording.camera.name,
            "event_time": _motion_time(recording).isoformat(),
            "clip_url": clip_url(recording.pk),
        }
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return Delivery(url=webhook_url_of(row), secret=webhook_secret_of(row), body=body)


def webhook_post(delivery: Delivery) -> Outcome:
    """Outside any transaction (the receiver may take its time)."""
    return post(
        url=delivery.url, secret=delivery.secret, body=delivery.body, timeout=django_settings.NVR_WEBHOOK_TIMEOUT_S
    )


def notification_test_send(*, actor: Membership) -> list[str]:
    """The "send a test notification" button: what was sent (channels), to ``actor`` only."""
    row = NotificationSettings.objects.filter(membership=actor).first()
    sent: list[str] = []
    if row is None:
        return sent
    if row.email_enabled and actor.user.email:
        household = actor.account.name
        with translation.override(language_of_user(actor.user)):
            subject = _("Test notification")
            body = (
                _("This is a test notification from %(household)s. Motion notifications will look like this.")
                % {"household": household}
                + "\n"
            )
        message = EmailMessage(subject=subject, body=body, to=[actor.user.email])
        transaction.on_commit(lambda: emails_send([message]))
        sent.append("email")
    if row.webhook_url_encrypted and row.webhook_secret_encrypted:
        from notifications.tasks import deliver_webhook

        account_id, membership_id = str(actor.account_id), str(actor.pk)
        transaction.on_commit(lambda: deliver_webhook.delay(account_id, membership_id, None))
        sent.append("webhook")
    return sent
