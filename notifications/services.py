"""Writes: a person's notification settings, the per-camera claim, and what to send.

Messages carry the minimum the person may see: the camera's name, the time of the
motion and a link to the clip on ``SITE_URL`` (which only household members can
open). The email also names the household (a person may belong to several); the
webhook, which leaves the site for an address of the person's choosing, does not.
"""

import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial

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
from notifications.models import NEVER, CameraNotice, CameraSubscription, NotificationSettings, PushSubscription
from notifications.push import Subscription, keys_valid, send_push
from notifications.selectors import (
    PUSH_SUBSCRIPTION,
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    listeners,
    push_target_of,
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
    pushes: list[str] = field(default_factory=list)  # push subscription ids


def motion_notify_plan(*, camera_id: str, recording_id: str, now: datetime | None = None) -> Plan:
    """In the household's scope: the clip (READY, with motion, of that camera) or nothing;
    the camera's claim; then one email per listener, and the webhooks and browsers to enqueue."""
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
    browsers = PushSubscription.objects.filter(membership_id__in=[m.pk for m, _ in people]).order_by("pk")
    plan.pushes = [str(pk) for pk in browsers.values_list("pk", flat=True)]
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


def _ready_clip_seen_by(membership: Membership, recording_id: str) -> Recording | None:
    """The ready clip, if ``membership`` may still see its camera (re-read at delivery: an
    owner may have limited them since the message was planned)."""
    visible = cameras_visible(viewer=membership).values("pk")
    return (
        Recording.objects.select_related("camera")
        .filter(pk=recording_id, camera__in=visible, status=RecordingStatus.READY)
        .first()
    )


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
        recording = _ready_clip_seen_by(row.membership, recording_id)
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
    browsers = [str(pk) for pk in PushSubscription.objects.filter(membership=actor).values_list("pk", flat=True)]
    if browsers:
        from notifications.tasks import deliver_push

        account_id = str(actor.account_id)
        for subscription_id in browsers:
            transaction.on_commit(partial(deliver_push.delay, account_id, subscription_id, None))
        sent.append("browser")
    return sent


# --- Web Push ---------------------------------------------------------------------------
ENDPOINT_MAX = 2000
BROWSERS_MAX = 20  # per person and household


def push_subscribe(*, actor: Membership, endpoint: str, p256dh: str, auth: str, label: str = "") -> PushSubscription:
    """Remember one of ``actor``'s browsers (the same browser again: the same row, keys updated).
    The push service's address is checked like a webhook's: ``ValidationError`` with the same
    sentence. With no settings yet, the person hears of every camera they may see (they asked)."""
    endpoint = endpoint.strip()
    if not endpoint or len(endpoint) > ENDPOINT_MAX:
        raise ValidationError({"endpoint": _("The browser gave no usable push address.")})
    try:
        webhook_address_check(endpoint)
    except AddressNotAllowed as refused:
        raise ValidationError({"endpoint": str(refused)}) from None
    if not keys_valid(p256dh=p256dh, auth=auth):
        raise ValidationError({"keys": _("The browser's push keys are not valid.")})
    target = Subscription(endpoint=endpoint, p256dh=p256dh, auth=auth)
    encrypted = encrypt_for_account(actor.account_id, PUSH_SUBSCRIPTION, target.as_json())
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    mine = PushSubscription.objects.filter(membership=actor)
    if not mine.filter(endpoint_sha256=digest).exists() and mine.count() >= BROWSERS_MAX:
        # A bound on rows (and on messages per motion) that no real person reaches.
        raise ValidationError(
            {"endpoint": _("You have %(count)d browsers turned on: turn one off first.") % {"count": BROWSERS_MAX}}
        )
    row, _created = PushSubscription.objects.update_or_create(
        account_id=actor.account_id,
        membership=actor,
        endpoint_sha256=digest,
        defaults={"subscription_encrypted": encrypted, "label": label[:80]},
    )
    NotificationSettings.objects.get_or_create(
        account_id=actor.account_id, membership=actor, defaults={"all_cameras": True}
    )
    return row


def push_unsubscribe(*, actor: Membership, subscription_id: uuid.UUID) -> bool:
    """Forget one of ``actor``'s own browsers; False when it is not theirs (or gone)."""
    deleted, _kinds = PushSubscription.objects.filter(membership=actor, pk=subscription_id).delete()
    return deleted > 0


def push_subscription_forget(*, subscription_id: str) -> None:
    """The push service said the subscription is gone (404/410): never send to it again."""
    PushSubscription.objects.filter(pk=subscription_id).delete()


@dataclass(frozen=True)
class PushDelivery:
    target: Subscription
    payload: dict[str, str]


def push_delivery_get(*, subscription_id: str, recording_id: str | None) -> PushDelivery | None:
    """In the household's scope: what to push to the browser now, or None (unsubscribed, or the
    person can no longer see the camera, or the clip is gone). Only camera, time and clip link.
    ``recording_id`` None: the test message, which links to the settings page."""
    row = PushSubscription.objects.select_related("membership").filter(pk=subscription_id).first()
    if row is None:
        return None
    if recording_id is None:
        test = {
            "camera": _("Test notification"),
            "time": timezone.now().isoformat(),
            "url": f"{django_settings.SITE_URL}{reverse('notifications:settings')}",
        }
        return PushDelivery(target=push_target_of(row), payload=test)
    recording = _ready_clip_seen_by(row.membership, recording_id)
    if recording is None:
        return None
    payload = {
        "camera": recording.camera.name,
        "time": _motion_time(recording).isoformat(),
        "url": clip_url(recording.pk),
    }
    return PushDelivery(target=push_target_of(row), payload=payload)


def push_send(delivery: PushDelivery) -> Outcome:
    """Outside any transaction (the push service may take its time)."""
    return send_push(
        delivery.target,
        delivery.payload,
        timeout=django_settings.NVR_PUSH_TIMEOUT_S,
        ttl=django_settings.NVR_PUSH_TTL_S,
    )
