"""The household's access history: every view of its video, and what support did."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.decorators import account_required
from accounts.http import TenantRequest
from accounts.selectors import access_events_list
from accounts.support_audit import support_entries_list


@require_http_methods(["GET", "HEAD"])
@account_required
def access_history(request: TenantRequest) -> HttpResponse:
    viewer = request.membership
    assert viewer is not None  # account_required
    # Support's log names cameras and people: a member kept to some cameras does not get it.
    support = [] if viewer.sees_some_cameras_only else support_entries_list()
    return render(
        request,
        "accounts/access_history.html",
        {"events": access_events_list(viewer=viewer), "support_entries": support},
    )
