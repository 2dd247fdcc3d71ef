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

logger = logging.getLogger("nvr.notifications")


@shared_task
def notify_motion(account_id: str, camera_id: str, recording_id: str) -> int:
    """Tell the camera's listeners of one clip's motion; how many emails went out."""
    with account_scope(account_id):
        plan = services.motion_notify_plan(camera_id=camera_id, recording_id=recording_id)
        for membership_id in plan.webhooks:
            transaction.on_commit(partial(deliver_webhook.delay, account_id, membership_id, recording_id))
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
