"""Background work on recordings. Tasks take JSON ids only.

``process_recording`` takes the household's id first like a ``TenantTask``, but
enters the household's scope itself, in short steps (``recordings.processing``):
``TenantTask`` would hold one transaction open for the whole decode.
"""

from typing import Any

from celery import shared_task
from django.conf import settings


@shared_task(
    soft_time_limit=settings.RECORDINGS_PROCESS_SOFT_TIME_LIMIT_S,
    time_limit=settings.RECORDINGS_PROCESS_TIME_LIMIT_S,
)
def process_recording(account_id: str, recording_id: str) -> str:
    """Probe, analyse and thumbnail a clip (``recordings.processing``). Returns the final status."""
    from recordings.processing import process

    return process(account_id, recording_id)


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
