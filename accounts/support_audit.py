"""The household's audit log of support staff: every read of its records and every action.

Support staff never act unseen. The admin (``accounts/admin_site.py``) writes a
read entry for each household shown on a page, the support viewer for each use of
a grant, and every support action writes an action entry and emails the owners.
The household reads the log in its access history.
"""

import hashlib
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import recorded_recently, remember_on_commit
from accounts.models import Membership, Role, SupportAuditEntry, User
from accounts.tenancy import account_scope


def _staff_label(staff: User) -> str:
    return f"Support: {staff.display_name}"


def staff_read_record(*, staff: User, account_ids: Iterable[uuid.UUID], summary: str) -> int:
    """One read entry per household, unless this person wrote the same one within the window
    (a list page reloaded or paged through writes one row, not one per view). Returns how
    many entries were written. Each household's entry is written in its own scope."""
    window = settings.NVR_SUPPORT_AUDIT_DEDUPE_S
    digest = hashlib.sha256(summary.encode()).hexdigest()[:16]
    written = 0
    for account_id in dict.fromkeys(account_ids):  # unique, in order
        key = f"nvr:support-read:{account_id}:{staff.pk}:{digest}"
        if recorded_recently(key):
            continue
        with account_scope(account_id):
            SupportAuditEntry.objects.create(
                account_id=account_id, staff_id=staff.pk, staff_label=_staff_label(staff), summary=summary[:300]
            )
        remember_on_commit(key, seconds=window)
        written += 1
    return written


def staff_action_record(
    *, staff: User, account_id: uuid.UUID, summary: str, also_notify: Iterable[str] = ()
) -> SupportAuditEntry:
    """An action entry, and (once it commits) an email to the household's owners and to
    ``also_notify`` (the person the action was about)."""
    with account_scope(account_id):
        entry = SupportAuditEntry.objects.create(
            account_id=account_id,
            staff_id=staff.pk,
            staff_label=_staff_label(staff),
            is_action=True,
            summary=summary[:300],
        )
        owners = list(
            Membership.objects.filter(role=Role.OWNER).select_related("user", "account").order_by("created_at")
        )
    recipients = sorted({m.user.email for m in owners} | set(also_notify))
    household = owners[0].account.name if owners else "your household"
    body = (
        f"Hello,\n\nNVR support staff member {staff.display_name} {summary} "
        f"({household}, {timezone.now():%Y-%m-%d %H:%M} UTC).\n\n"
        "Everything support does or looks at is listed in your household's access history: "
        f"{settings.SITE_URL}{reverse('accounts:access-history')}\n\n"
        "If you did not ask support for help, reply to this message or contact us.\n"
    )
    transaction.on_commit(
        lambda: send_mail(f"[NVR] Support {summary}", body, None, recipients, fail_silently=False), robust=True
    )
    return entry


def support_entries_list(*, limit: int = 200) -> list[SupportAuditEntry]:
    """The active household's audit log, newest first (inside its scope)."""
    return list(SupportAuditEntry.objects.all()[:limit])
