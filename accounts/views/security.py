"""The person's own security page: their address, password, second factor and sessions."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.http import TenantRequest


@require_http_methods(["GET", "HEAD"])
@login_required
def security(request: TenantRequest) -> HttpResponse:
    user = request.user
    context = {
        "pending_email": EmailAddress.objects.filter(user=user, verified=False).exclude(email=user.email).first(),
        "authenticators": sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True)),
        "session_count": len(UserSession.objects.purge_and_list(user)),
    }
    return render(request, "account/security.html", context)
