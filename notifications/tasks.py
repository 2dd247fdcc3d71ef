"""Notification tasks. Like ``recordings.process_recording`` they take the household's id
first and open its scope themselves, but only around database work: no transaction stays
open while a mail server or a webhook receiver answers."""

import logging
import random
from functools import partial
from typing import Any, Protocol, cast

from celery import Task, shared_task
from django.conf import settings
from django.db import transaction

from accounts.tenancy import account_scope
from notifications import services
from notifications.push import GONE, PushNotConfigured

logger = logging.getLogger("nvr.notifications")


@shared_task
def notify_motion(account_id: str, camera_id: str, recording_id: str) -> int:
    """Tell the camera's listeners of one clip's motion; how many emails went out."""
    with account_scope(account_id):
        plan = services.motion_notify_plan(camera_id=camera_id, recording_id=recording_id)
        for membership_id in plan.webhooks:
            transaction.on_commit(partial(deliver_webhook.delay, account_id, membership_id, recording_id))
        for subscription_id in plan.pushes:
            transaction.on_commit(partial(deliver_push.delay, account_id, subscription_id, recording_id))
    return services.emails_send(plan.emails)


def retry_delay(retries: int) -> float:
    """Exponential backoff with jitter: about 30 s, 1 min, 2 min... at most an hour."""
    ceiling = min(3600.0, 30.0 * 2**retries)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)


class Retrying(Protocol):
    """What ``deliver`` needs of the bound task (tests pass a stand-in)."""

    request: Any

    def retry(self, *, countdown: float) -> Exception: ...


def deliver(task: Retrying, account_id: str, membership_id: str, recording_id: str | None) -> str:
    """The task's body, separate so tests can call it with a fake ``task`` (its ``retry``)."""
    with account_scope(account_id):
        delivery = services.webhook_delivery_get(membership_id=membership_id, recording_id=recording_id)
    if delivery is None:
        return "skipped"
    outcome = services.webhook_post(delivery)
    if outcome.retry and task.request.retries < settings.NVR_WEBHOOK_MAX_RETRIES:
        raise task.retry(countdown=retry_delay(task.request.retries))
    if outcome.status is None or not 200 <= outcome.status < 300:
        logger.warning("webhook not delivered: %s", outcome.detail)
    return outcome.detail


@shared_task(bind=True, max_retries=None)  # NVR_WEBHOOK_MAX_RETRIES decides, in deliver()
def deliver_webhook(self: Task, account_id: str, membership_id: str, recording_id: str | None) -> str:  # type: ignore[type-arg]
    """POST the signed message; a 5xx, 429 or no answer is retried with backoff, a 4xx is not."""
    return deliver(cast(Retrying, self), account_id, membership_id, recording_id)


def push(task: Retrying, account_id: str, subscription_id: str, recording_id: str | None) -> str:
    """``deliver_push``'s body: like ``deliver``; a 404 or 410 forgets the browser."""
    with account_scope(account_id):
        delivery = services.push_delivery_get(subscription_id=subscription_id, recording_id=recording_id)
    if delivery is None:
        return "skipped"
    try:
        outcome = services.push_send(delivery)
    except PushNotConfigured:
        logger.warning("web push not sent: no VAPID key (manage.py vapid_keys)")
        return "not configured"
    if outcome.status in GONE:
        with account_scope(account_id):
            services.push_subscription_forget(subscription_id=subscription_id)
        return "gone"
    if outcome.retry and task.request.retries < settings.NVR_PUSH_MAX_RETRIES:
        raise task.retry(countdown=retry_delay(task.request.retries))
    if outcome.status is None or not 200 <= outcome.status < 300:
        logger.warning("web push not delivered: %s", outcome.detail)
    return outcome.detail


@shared_task(bind=True, max_retries=None)  # NVR_PUSH_MAX_RETRIES decides, in push()
def deliver_push(self: Task, account_id: str, subscription_id: str, recording_id: str | None) -> str:  # type: ignore[type-arg]
    """Encrypt and POST one motion message to one browser's push service, retried like a webhook."""
    return push(cast(Retrying, self), account_id, subscription_id, recording_id)
