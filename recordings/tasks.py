"""Background work on recordings. Tasks take JSON ids only.

``process_recording`` takes the household's id first like a ``TenantTask``, but
enters the household's scope itself, in short steps (``recordings.processing``):
``TenantTask`` would hold one transaction open for the whole decode.
"""

from typing import Any

from celery import Task, shared_task
from django.conf import settings

# A redelivered message whose clip another attempt still holds looks again this often; after
# that the requeue (beat) takes over, so a duplicate message never loops for ever.
BUSY_RETRIES = 3


@shared_task(
    bind=True,
    soft_time_limit=settings.RECORDINGS_PROCESS_SOFT_TIME_LIMIT_S,
    time_limit=settings.RECORDINGS_PROCESS_TIME_LIMIT_S,
    max_retries=BUSY_RETRIES,
)
def process_recording(self: "Task[Any, str]", account_id: str, recording_id: str, claim: int | None = None) -> str:
    """Probe, analyse and thumbnail a clip (``recordings.processing``). Returns the final status.

    ``claim``: the attempt the requeue claimed for this message (``recordings.requeue``).
    """
    from recordings.processing import BUSY, process

    status = process(account_id, recording_id, claim=claim)
    if status == BUSY and self.request.retries < BUSY_RETRIES and not self.request.is_eager:
        # Another attempt's claim is fresh (its worker may have just died): by then it is stale.
        raise self.retry(countdown=settings.RECORDINGS_PROCESSING_STALE_S + 1)
    return status


@shared_task(soft_time_limit=50, time_limit=55)  # within its one-minute period
def requeue_stale_processing() -> int:
    """Beat (every minute): clips whose processing outlived its claim (a dead worker), enqueued again."""
    from recordings.requeue import requeue_stale_processing as requeue

    return requeue()


@shared_task(soft_time_limit=13 * 60, time_limit=14 * 60)  # within its 15-minute period; batches commit
def enforce_retention() -> dict[str, Any]:
    """Beat: delete clips past their camera's retention, then the oldest of households over quota."""
    from recordings.retention import enforce_retention as enforce

    return enforce().to_json()


@shared_task(soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def sweep_recordings() -> dict[str, Any]:
    """Beat (daily): remove files without rows and rows without files, stale partial uploads."""
    from recordings.sweep import sweep

    return sweep().to_json()


@shared_task(soft_time_limit=50 * 60, time_limit=55 * 60)  # within its hourly period
def hourly_cleanup() -> dict[str, int]:
    """Beat (hourly): expired uploads with their partial files, and folders of a killed processing worker.

    Uploads expire after ``RECORDINGS_UPLOAD_EXPIRY_HOURS``; the daily sweep alone would keep them up to a day more.
    """
    from recordings.processing import remove_stale_folders
    from recordings.upload.cleanup import expire_uploads

    return {"expired_uploads": expire_uploads(), "stale_processing_folders": remove_stale_folders()}
