"""Background work for households.

Tasks take JSON ids only, the household's id first; ``TenantTask`` runs the body
inside that household's scope, so a task handed another household's object id
finds nothing and exits.
"""

from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from accounts.models import Invitation
from accounts.tenancy import account_scope


class TenantTask(Task):  # type: ignore[type-arg]
    """Runs ``run(account_id, ...)`` inside ``account_scope(account_id)``."""

    def __call__(self, account_id: str, *args: Any, **kwargs: Any) -> Any:
        with account_scope(account_id):
            return super().__call__(account_id, *args, **kwargs)


@shared_task(base=TenantTask)
def send_invitation_email(account_id: str, invitation_id: str) -> bool:
    """Email an invitation. False if it was withdrawn or accepted meanwhile."""
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        return False
    send_mail(
        subject=f"{invitation.inviter_label} invited you to {invitation.household_name}",
        message=(
            f"{invitation.inviter_label} invited you to see the cameras of {invitation.household_name} "
            f"as {invitation.get_role_display().lower()}.\n\n"
            f"Sign in, or sign up with this address ({invitation.email}), then accept it here:\n"
            f"{settings.SITE_URL}{reverse('accounts:households')}\n\n"
            f"The invitation expires on {invitation.expires_at:%Y-%m-%d}. "
            "If you did not expect it, ignore this email.\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True
