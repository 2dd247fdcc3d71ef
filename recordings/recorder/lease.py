"""One recorder per camera: a lease row per camera, taken, renewed and released.

Each step is one conditional statement, so two recorders racing for a camera cannot
both win (SQLite serialises writers; PostgreSQL re-checks an UPDATE's condition on the
row it waited for). Times are the database's (``Now()``), never a host's clock. A
recorder whose host dies stops renewing; its lease lapses after ``seconds`` and the
next recorder to ask takes the camera over.
"""

import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Now

from accounts.tenancy import require_account_scope
from recordings.models import RecorderLease

__all__ = ["lease_release", "lease_renew", "lease_take"]


def _until(seconds: float) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(Now() + timedelta(seconds=seconds), output_field=DateTimeField())


def lease_take(*, account_id: uuid.UUID, camera_id: uuid.UUID, holder: str, seconds: float) -> bool:
    """Take the camera's lease if it is free, lapsed or already ours; True if we hold it now."""
    require_account_scope(account_id)
    taken = (
        RecorderLease.objects.filter(camera_id=camera_id)
        .filter(Q(holder=holder) | Q(expires_at__lt=Now()))
        .update(holder=holder, expires_at=_until(seconds), acquired_at=Now())
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            RecorderLease.objects.create(
                camera_id=camera_id, account_id=account_id, holder=holder, acquired_at=Now(), expires_at=_until(seconds)
            )
    except IntegrityError:
        return False  # another recorder holds it (or created it first)
    return True


def lease_renew(*, account_id: uuid.UUID, camera_id: uuid.UUID, holder: str, seconds: float) -> bool:
    """Extend our lease; False once another recorder has taken the camera (stop at once)."""
    require_account_scope(account_id)
    return bool(RecorderLease.objects.filter(camera_id=camera_id, holder=holder).update(expires_at=_until(seconds)))


def lease_release(*, account_id: uuid.UUID, camera_id: uuid.UUID, holder: str) -> None:
    """Give the camera up at once (a clean stop): the next recorder need not wait it out."""
    require_account_scope(account_id)
    RecorderLease.objects.filter(camera_id=camera_id, holder=holder).delete()
