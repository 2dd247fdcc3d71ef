"""Each person's own notification settings in the active household (``/notifications/``).

Everything here is about ``request.membership``: no object id in the URL, nothing of
another person or household to name.
"""

import uuid
from functools import cache
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import account_required
from accounts.http import TenantRequest
from accounts.models import Membership
from devices.selectors import cameras_list
from notifications.forms import NotificationSettingsForm
from notifications.models import NotificationSettings
from notifications.push import public_key
from notifications.selectors import push_subscriptions_of, settings_of, subscribed_camera_ids, webhook_url_of
from notifications.services import (
    notification_settings_update,
    notification_test_send,
    push_subscribe,
    push_unsubscribe,
    webhook_secret_rotate,
)

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
        **_push_context(membership),
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
        messages.info(request, _("Nothing to send: turn on email or a browser, or give a webhook address first."))
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
    context = {"form": form, "secret": secret, "has_secret": True, **_push_context(membership)}
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


def _push_context(membership: Membership) -> dict[str, Any]:
    return {"push_key": public_key(), "browsers": push_subscriptions_of(membership=membership)}


@require_POST
@account_required
def push_subscription_add(request: TenantRequest) -> HttpResponse:
    """The page's script posts the browser's PushSubscription (endpoint, p256dh, auth) here."""
    membership = request.membership
    assert membership is not None
    try:
        row = push_subscribe(
            actor=membership,
            endpoint=request.POST.get("endpoint", ""),
            p256dh=request.POST.get("p256dh", ""),
            auth=request.POST.get("auth", ""),
            label=request.POST.get("label", ""),
        )
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"id": str(row.pk)}, status=201)


@require_POST
@account_required
def push_subscription_remove(request: TenantRequest, subscription_id: uuid.UUID) -> HttpResponse:
    """Turn one of the person's own browsers off; anyone else's is a 404, like a missing one."""
    membership = request.membership
    assert membership is not None
    if not push_unsubscribe(actor=membership, subscription_id=subscription_id):
        raise Http404
    messages.success(request, _("Notifications are off in that browser."))
    return redirect("notifications:settings")


@cache
def _service_worker_source() -> bytes:
    return (django_settings.BASE_DIR / "static" / "js" / "push-sw.js").read_bytes()


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The push service worker at the site's root, so its scope is every page (a script under
    /static/ could only control /static/). It holds no data: anyone may fetch it."""
    response = HttpResponse(_service_worker_source(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response
