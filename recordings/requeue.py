"""The requeue: clips whose processing outlived its claim are claimed again and enqueued.

A worker killed mid-clip (OOM, deploy, power) leaves its recording PROCESSING.
RabbitMQ and Redis redeliver the task (acks late, reject on worker lost); the
embedded filesystem broker does not, so without this the clip would wait for the
daily sweep. Beat runs it every ``RECORDINGS_REQUEUE_EVERY_S``.

A claim is stale once ``RECORDINGS_PROCESSING_STALE_S`` have passed since its
attempt last renewed it (a live attempt renews it four times as often: its worker died).
Each stale clip is claimed here with a conditional UPDATE on its attempt counter,
and the message carries that claim: a slow attempt, a redelivered message and a
second requeue can never all go on, since only the attempt holding the latest
claim may store an outcome (``recordings.processing``).
"""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.tenancy import account_scope, unscoped
from recordings.models import Recording, RecordingStatus

__all__ = ["requeue_stale_processing"]

logger = logging.getLogger("nvr.recordings.requeue")

BATCH = 500  # per run; the next run (a minute later) takes the rest


def _stale(cutoff: datetime) -> Q:
    # Rows from before the claim was recorded have no start: their creation stands in for it.
    return Q(processing_started_at__lt=cutoff) | Q(processing_started_at__isnull=True, created_at__lt=cutoff)


def requeue_stale_processing() -> int:
    """Claim and enqueue again every clip whose processing claim is stale; how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.RECORDINGS_PROCESSING_STALE_S)
    with unscoped("requeue: find clips whose processing worker died (ids and attempt counters only)"):
        stale = list(
            Recording.objects.filter(_stale(cutoff), status=RecordingStatus.PROCESSING).values_list(
                "account_id", "pk", "processing_attempts"
            )[:BATCH]
        )
    requeued = 0
    for account_id, pk, seen in stale:
        if _claim(account_id, pk, seen, cutoff):
            requeued += 1
            logger.warning("recording %s: processing outlived its claim (a worker died); enqueued again", pk)
    return requeued


def _claim(account_id: uuid.UUID, pk: uuid.UUID, seen: int, cutoff: datetime) -> bool:
    from recordings.tasks import process_recording  # the task module imports this one

    with account_scope(account_id):
        taken = Recording.objects.filter(
            _stale(cutoff), pk=pk, status=RecordingStatus.PROCESSING, processing_attempts=seen
        ).update(processing_attempts=F("processing_attempts") + 1, processing_started_at=timezone.now())
        if taken:
            # The claim's clock starts now: the next run does not enqueue it again while it waits in the queue.
            transaction.on_commit(lambda: process_recording.delay(str(account_id), str(pk), seen + 1))
    return bool(taken)
