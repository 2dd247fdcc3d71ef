"""Background work for households.

Tasks take JSON ids only, the household's id first; ``TenantTask`` runs the body
inside that household's scope, so a task handed another household's object id
finds nothing and exits.
"""

from typing import Any

from celery import Task, shared_task
from django.core.mail import send_mail

from accounts.models import Membership
from accounts.tenancy import account_scope


class TenantTask(Task):  # type: ignore[type-arg]
    """Runs ``run(account_id, ...)`` inside ``account_scope(account_id)``."""

    def __call__(self, account_id: str, *args: Any, **kwargs: Any) -> Any:
        with account_scope(account_id):
            return super().__call__(account_id, *args, **kwargs)


@shared_task(base=TenantTask)
def notify_member_added(account_id: str, membership_id: str) -> bool:
    """Email a person that they were added to a household. False if the membership is gone."""
    membership = Membership.objects.select_related("user", "account").filter(pk=membership_id).first()
    if membership is None:
        return False
    send_mail(
        subject=f"You can now see the cameras of {membership.account.name}",
        message=(
            f"Hello {membership.user.display_name},\n\n"
            f"You were added to the household {membership.account.name} as {membership.get_role_display()}.\n"
            "Sign in to switch to it from the household menu.\n"
        ),
        from_email=None,
        recipient_list=[membership.user.email],
    )
    return True
