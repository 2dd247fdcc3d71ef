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
from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from accounts.audit import recorded_recently, remember_on_commit
from accounts.languages import language_of_user
from accounts.models import Membership, Role, SupportAuditEntry, User
from accounts.tenancy import account_scope
from accounts.timezones import zone_of_user


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


def summary_lazy(message: StrOrPromise, **names: str) -> StrOrPromise:
    """An action's summary (``gettext_lazy`` with ``%(name)s`` placeholders) that is translated
    where it is read: each email in its recipient's language, the log entry in English."""
    return lazy(lambda: str(message) % names, str)()


def staff_action_record(
    *, staff: User, account_id: uuid.UUID, summary: StrOrPromise, also_notify: Iterable[str] = ()
) -> SupportAuditEntry:
    """An action entry, and (once it commits) an email to the household's owners and to
    ``also_notify`` (the person the action was about), each in the recipient's language."""
    with translation.override("en"):  # the log keeps one language: the record, not a message
        recorded = str(summary)
    with account_scope(account_id):
        entry = SupportAuditEntry.objects.create(
            account_id=account_id,
            staff_id=staff.pk,
            staff_label=_staff_label(staff),
            is_action=True,
            summary=recorded[:300],
        )
        owners = list(
            Membership.objects.filter(role=Role.OWNER).select_related("user", "account").order_by("created_at")
        )
    household = owners[0].account.name if owners else None
    people: dict[str, User | None] = {m.user.email: m.user for m in owners}
    people |= {email: people.get(email) or User.objects.filter(email=email).first() for email in also_notify}
    emails = [_action_email(staff, summary, household, email, person) for email, person in sorted(people.items())]

    def send() -> None:
        for subject, body, email in emails:
            send_mail(subject, body, None, [email], fail_silently=False)

    transaction.on_commit(send, robust=True)
    return entry


def _action_email(
    staff: User, summary: StrOrPromise, household: str | None, email: str, person: User | None
) -> tuple[str, str, str]:
    """The subject and body telling ``email`` of a support action, in their language and time zone."""
    with translation.override(language_of_user(person)):
        names = {
            "staff": staff.display_name,
            "summary": str(summary),
            "household": household or _("your household"),
            "when": formats.date_format(timezone.localtime(timezone.now(), zone_of_user(person)), "DATETIME_FORMAT"),
            "url": f"{settings.SITE_URL}{reverse('accounts:access-history')}",
        }
        subject = _("[NVR] Support %(summary)s") % names
        body = (
            _(
                "Hello,\n\nNVR support staff member %(staff)s %(summary)s (%(household)s, %(when)s).\n\n"
                "Everything support does or looks at is listed in your household's access history: %(url)s\n\n"
                "If you did not ask support for help, reply to this message or contact us.\n"
            )
            % names
        )
    return subject, body, email


def support_entries_list(*, limit: int = 200) -> list[SupportAuditEntry]:
    """The active household's audit log, newest first (inside its scope)."""
    return list(SupportAuditEntry.objects.all()[:limit])
