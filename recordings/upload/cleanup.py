"""Scheduled cleanup of uploads that were never completed (run by Celery beat).

- ``expire_uploads``: Upload rows past ``expires_at``, with their partial files;
- ``remove_stray_partials``: partial files whose Upload row is gone (a crash
  between the row's removal and the file's).

Listing expired uploads needs every household's rows: ``unscoped`` is used for
that list of (household, upload) ids only; each removal then runs inside its
own household's scope, like any other write.
"""

import time
import uuid
from datetime import timedelta

from django.utils import timezone

from accounts.tenancy import account_scope, unscoped
from recordings import files
from recordings.models import Upload
from recordings.upload.partials import remove_partial

__all__ = ["expire_uploads", "remove_stray_partials"]


def expire_uploads() -> int:
    """Remove every expired upload (row, then partial file); return how many."""
    now = timezone.now()
    with unscoped("expire_uploads: list expired uploads of every household"):
        expired: list[tuple[uuid.UUID, uuid.UUID]] = list(
            Upload.objects.filter(expires_at__lte=now).values_list("account_id", "pk")
        )
    removed = 0
    for account_id, upload_id in expired:
        with account_scope(account_id):
            # Locked and re-checked: a PATCH in flight keeps it until it commits.
            upload = Upload.objects.select_for_update().filter(pk=upload_id, expires_at__lte=now).first()
            if upload is None:
                continue
            upload.delete()
        remove_partial(account_id, upload_id)
        removed += 1
    return removed


def remove_stray_partials(older_than: timedelta) -> int:
    """Delete partial files older than ``older_than`` that no Upload row owns; return how many."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for account_id, upload_id, modified in list(files.clip_storage.partials()):
        if modified > cutoff:
            continue  # young: its row may not have committed yet
        with account_scope(account_id):
            if Upload.objects.filter(pk=upload_id).exists():
                continue
        if remove_partial(account_id, upload_id):
            removed += 1
    return removed
