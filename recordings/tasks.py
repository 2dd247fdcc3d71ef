"""Background work on recordings. Tasks take JSON ids, the household's id first (``TenantTask``)."""

from celery import shared_task

from accounts.tasks import TenantTask


@shared_task(base=TenantTask)
def process_recording(account_id: str, recording_id: str) -> str:
    """Probe, analyse and thumbnail a clip (``recordings.processing``). Returns the final status."""
    from recordings.processing import process

    return process(recording_id)
