"""The person's own security page: their address, password, second factor and sessions."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.forms import LanguageForm, TimeZoneForm
from accounts.http import TenantRequest
from accounts.languages import language_of
from accounts.services import user_language_set, user_time_zone_set
from accounts.timezones import BROWSER_COOKIE, zone


@require_http_methods(["GET", "HEAD"])
@login_required
def security(request: TenantRequest) -> HttpResponse:
    user = request.user
    context = {
        "time_zone_form": TimeZoneForm(initial={"time_zone": user.time_zone}),
        "language_form": LanguageForm(initial={"language": user.language}),
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
        return _refused(request, form, title=_("Time zone"), action=reverse("accounts:time-zone"))
    user_time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
    messages.success(request, _("Time zone saved."))
    return redirect("accounts:security")


@require_http_methods(["POST"])
@login_required
def language(request: TenantRequest) -> HttpResponse:
    """The person's language for pages and emails (empty: their browser's)."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _refused(request, form, title=_("Language"), action=reverse("accounts:language"))
    user_language_set(user=request.user, language=form.cleaned_data["language"])
    # The confirmation is already in the new language (the next page's, as a person expects).
    translation.activate(language_of(request))
    messages.success(request, _("Language saved."))
    return redirect("accounts:security")


def _refused(request: TenantRequest, form: Form, *, title: str, action: str) -> HttpResponse:
    return render(
        request, "account/preference_refused.html", {"form": form, "title": title, "action": action}, status=400
    )
