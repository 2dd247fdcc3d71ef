"""The household's access history: every view of its video."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.decorators import household_required
from accounts.http import TenantRequest
from accounts.selectors import access_events_list


@require_http_methods(["GET", "HEAD"])
@household_required
def access_history(request: TenantRequest) -> HttpResponse:
    assert request.membership is not None  # household_required
    return render(request, "accounts/access_history.html", {"events": access_events_list(viewer=request.membership)})
