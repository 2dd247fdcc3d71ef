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
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.languages import language_of_user
from accounts.models import Invitation, User
from accounts.tenancy import account_scope
from accounts.timezones import zone_of_user


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
    # The invitee's language when they have an account here, else the inviter's (likely shared).
    invitee = User.objects.filter(email=invitation.email).first()
    with translation.override(language_of_user(invitee or invitation.invited_by)):
        names = {
            "inviter": invitation.inviter_display,
            "household": invitation.household_name,
            "role": invitation.get_role_display().lower(),
            "email": invitation.email,
            "url": f"{settings.SITE_URL}{reverse('accounts:households')}",
            "expires": formats.date_format(
                timezone.localtime(invitation.expires_at, zone_of_user(invitee)), "DATE_FORMAT"
            ),
        }
        subject = _("%(inviter)s invited you to %(household)s") % names
        message = (
            _(
                "%(inviter)s invited you to see the cameras of %(household)s as %(role)s.\n\n"
                "Sign in, or sign up with this address (%(email)s), then accept it here:\n%(url)s\n\n"
                "The invitation expires on %(expires)s. If you did not expect it, ignore this email.\n"
            )
            % names
        )
    send_mail(subject=subject, message=message, from_email=None, recipient_list=[invitation.email])
    return True
