"""The person's own security page: their address, password, second factor and sessions."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import TimeZoneForm
from accounts.http import TenantRequest
from accounts.services import user_time_zone_set
from accounts.timezones import BROWSER_COOKIE, zone


@require_http_methods(["GET", "HEAD"])
@login_required
def security(request: TenantRequest) -> HttpResponse:
    user = request.user
    context = {
        "time_zone_form": TimeZoneForm(initial={"time_zone": user.time_zone}),
        "browser_zone": str(zone(request.COOKIES.get(BROWSER_COOKIE)) or ""),
        "pending_email": EmailAddress.objects.filter(user=user, verified=False).exclude(email=user.email).first(),
        "authenticators": sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True)),
        "session_count": len(UserSession.objects.purge_and_list(user)),
    }
    return render(request, "account/security.html", context)


@require_http_methods(["POST"])
@login_required
def time_zone(request: TenantRequest) -> HttpResponse:
    """The person's time zone for every time the pages show (empty: their browser's)."""
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        return render(request, "account/time_zone_refused.html", {"form": form}, status=400)
    user_time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
    messages.success(request, "Time zone saved.")
    return redirect("accounts:security")
