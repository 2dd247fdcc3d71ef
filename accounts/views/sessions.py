"""The person's sessions: where they are signed in, and signing one or all others out.

Ending a session deletes it from the session store and closes every live view it had
open (``accounts.auth.adapters.UserSessionsAdapter``)."""

from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import TenantRequest


def _own_sessions(request: TenantRequest) -> list[UserSession]:
    sessions = UserSession.objects.purge_and_list(request.user)
    return sorted(sessions, key=lambda s: s.last_seen_at, reverse=True)


@require_http_methods(["GET", "HEAD"])
@login_required
def sessions(request: TenantRequest) -> HttpResponse:
    current = request.session.session_key
    rows = [(session, session.session_key == current) for session in _own_sessions(request)]
    return render(request, "account/sessions.html", {"rows": rows, "others": sum(not mine for _, mine in rows)})


@require_POST
@login_required
def session_end(request: TenantRequest, session_id: int) -> HttpResponse:
    """Sign out one of your sessions (another person's is a 404, like a missing one)."""
    session = UserSession.objects.filter(pk=session_id, user=request.user).first()
    if session is None:
        raise Http404(_("No such session."))
    if session.session_key == request.session.session_key:
        logout(request)  # this browser: an ordinary sign-out (its sockets close on the signal)
        return redirect("account_login")
    get_adapter().end_sessions([session])
    messages.success(request, _("That session is signed out."))
    return redirect("accounts:sessions")


@require_POST
@login_required
def sessions_end_others(request: TenantRequest) -> HttpResponse:
    current = request.session.session_key
    others = [session for session in _own_sessions(request) if session.session_key != current]
    get_adapter().end_sessions(others)
    messages.success(
        request,
        ngettext("Signed out %(count)d other session.", "Signed out %(count)d other sessions.", len(others))
        % {"count": len(others)},
    )
    return redirect("accounts:sessions")
