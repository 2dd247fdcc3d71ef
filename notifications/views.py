"""Each person's own notification settings in the active household (``/notifications/``).

Everything here is about ``request.membership``: no object id in the URL, nothing of
another person or household to name.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import account_required
from accounts.http import TenantRequest
from accounts.models import Membership
from devices.selectors import cameras_list
from notifications.forms import NotificationSettingsForm
from notifications.models import NotificationSettings
from notifications.selectors import settings_of, subscribed_camera_ids, webhook_url_of
from notifications.services import notification_settings_update, notification_test_send, webhook_secret_rotate

# The channels notification_test_send names, as people read them.
CHANNELS = {"email": gettext_lazy("email"), "webhook": gettext_lazy("webhook")}


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def notification_settings(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    assert membership is not None  # account_required
    row = settings_of(membership=membership)
    initial = _initial(membership, row)
    form = NotificationSettingsForm(request.POST or None, cameras=cameras_list(viewer=membership), initial=initial)
    secret = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            row, secret = notification_settings_update(
                actor=membership,
                all_cameras=data["all_cameras"],
                cameras=form.chosen(),
                email_enabled=data["email_enabled"],
                webhook_enabled=data["webhook_enabled"],
                webhook_url=data["webhook_url"],
                quiet_start=data["quiet_start"],
                quiet_end=data["quiet_end"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if secret is None:
                messages.success(request, _("Saved your notification settings."))
                return redirect("notifications:settings")
    context = {
        "form": form,
        "secret": secret,  # shown once, on this answer only
        "has_secret": bool(row and row.webhook_secret_encrypted),
    }
    return render(request, "notifications/settings.html", context, status=400 if form.errors else 200)


@require_POST
@account_required
def notification_test(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    assert membership is not None
    sent = notification_test_send(actor=membership)
    if sent:
        channels = ", ".join(str(CHANNELS.get(channel, channel)) for channel in sent)
        messages.success(request, _("Sent a test notification (%(channels)s).") % {"channels": channels})
    else:
        messages.info(request, _("Nothing to send: turn on email or give a webhook address first."))
    return redirect("notifications:settings")


@require_POST
@account_required
def webhook_secret_new(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    assert membership is not None
    secret = webhook_secret_rotate(actor=membership)
    form = NotificationSettingsForm(
        cameras=cameras_list(viewer=membership), initial=_initial(membership, settings_of(membership=membership))
    )
    context = {"form": form, "secret": secret, "has_secret": True}
    return render(request, "notifications/settings.html", context)


def _initial(membership: Membership, row: NotificationSettings | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {
        "email_enabled": row.email_enabled,
        "webhook_enabled": row.webhook_enabled,
        "webhook_url": webhook_url_of(row),
        "all_cameras": row.all_cameras,
        "cameras": sorted(subscribed_camera_ids(membership=membership)),
        "quiet_start": row.quiet_start,
        "quiet_end": row.quiet_end,
    }
