"""Request middleware: the household scope, private caching and a household's second-factor rule."""

import time
import uuid
from collections.abc import Callable
from typing import cast
from urllib.parse import urlencode

from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from accounts.auth.policy import has_second_factor, second_factor_missing, session_used_second_factor
from accounts.http import TenantRequest
from accounts.models import Membership
from accounts.selectors import memberships_for_user
from accounts.tenancy import request_transaction

ACTIVE_ACCOUNT_SESSION_KEY = "nvr_active_account"
# Household forms carry the id of the household they were rendered for, as a
# check only (never as the source of the scope): a form from a tab that still
# shows another household is refused instead of being applied to the active one.
HOUSEHOLD_GUARD_FIELD = "household"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def choose_active_membership(memberships: list[Membership], wanted: str | None) -> Membership | None:
    """The session's chosen household if the user still belongs to it, else the one
    they used last."""
    for membership in memberships:
        if str(membership.account_id) == wanted:
            return membership
    return max(memberships, key=lambda m: m.last_active_at, default=None)


def _refuse(request: TenantRequest, message: str) -> HttpResponse:
    return render(request, "accounts/conflict.html", {"message": message}, status=409)


class TenantMiddleware:
    """Resolve the active household once, from the signed-in user only, and run
    the view *and its rendering* inside that household's scope.

    The household never comes from the URL, a form or a header: only from the
    user's memberships (the session merely remembers which of them is active).
    A user in no household gets no scope at all, never "every household".

    One transaction per request (``request_transaction``), started in the session's
    household: one statement sets the scope, one query reads the user's memberships
    (the switcher's list, and the check that the household is still theirs).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        request = cast(TenantRequest, http_request)
        request.membership = None
        request.memberships = []
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        wanted = request.session.get(ACTIVE_ACCOUNT_SESSION_KEY)
        unsafe = request.method not in _SAFE_METHODS
        with request_transaction() as scope:
            # In the session's household already (its row-level security also lets a user
            # read their own memberships): one statement, and the list below is one query.
            if wanted and _is_uuid(wanted):
                scope.as_account(wanted, user_id=user.pk)
            else:
                scope.as_user(user.pk)
            request.memberships = memberships_for_user(user_id=user.pk)
            active = choose_active_membership(request.memberships, wanted)
            if wanted and (active is None or str(active.account_id) != wanted):
                # The household this session worked in is gone (removed, or left):
                # never apply a change meant for it to another household.
                del request.session[ACTIVE_ACCOUNT_SESSION_KEY]
                if unsafe:
                    return _refuse(request, _("You are no longer a member of the household this page belonged to."))
            request.membership = active
            if active is not None:
                if str(active.account_id) != wanted:
                    scope.as_account(active.account_id, user_id=user.pk)
                    # Remembered, so the next request starts in this household's scope.
                    request.session[ACTIVE_ACCOUNT_SESSION_KEY] = str(active.account_id)
                return self._in_scope(request, active)
        return self.get_response(request)  # in no household: no scope at all

    def _in_scope(self, request: TenantRequest, active: Membership) -> HttpResponse:
        if request.method not in _SAFE_METHODS and request.content_type in _FORM_TYPES:
            rendered_for = request.POST.get(HOUSEHOLD_GUARD_FIELD)
            if rendered_for is not None and rendered_for != str(active.account_id):
                return _refuse(
                    request,
                    _("This page belongs to another of your households: you switched in another tab or window."),
                )
        response = self.get_response(request)
        # Render inside the scope: a TemplateResponse's querysets are lazy.
        render = getattr(response, "render", None)
        if callable(render) and not getattr(response, "is_rendered", True):
            render()
        if response.status_code >= 500:
            # The view failed after it may have written: keep nothing.
            transaction.set_rollback(True)
        return response


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class PrivateCacheMiddleware:
    """No response of this site may be stored by a shared cache (the 2023 leak
    happened through one). Static files are served before this runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Cache-Control"] = "private, no-store"
        patch_vary_headers(response, ("Cookie", "Authorization"))
        return response


# What a person without a second factor may still open in a household that requires one:
# enrolling one, their own account pages, and leaving for another household.
_ENROLMENT_ROUTES = {
    "account_logout",
    "account_email",
    "account_change_password",
    "account_reauthenticate",
    "accounts:security",
    "accounts:sessions",
    "accounts:session-end",
    "accounts:sessions-end-others",
    "accounts:households",
    "accounts:household-switch",
    "accounts:invitation-accept",
    "accounts:invitation-decline",
    "accounts:language",
    "accounts:time-zone",
    "javascript-catalog",
}


# What a staff member whose session has not used a second factor may open: enrolling or
# confirming one, and their own account's pages (staff are never household members).
_STAFF_ENROLMENT_ROUTES = {
    "account_logout",
    "account_email",
    "account_change_password",
    "account_reauthenticate",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "accounts:security",
    "accounts:sessions",
    "accounts:session-end",
    "accounts:sessions-end-others",
    "accounts:language",
    "accounts:time-zone",
    "javascript-catalog",
}


class SecondFactorRequiredMiddleware:
    """In a household whose owner requires a second factor, a person without one sees
    nothing of it: pages send them to enrol one, the API answers 403. Staff always
    need one: a staff session without it opens nothing but the enrolment pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, http_request: HttpRequest, *args: object) -> HttpResponse | None:
        request = cast(TenantRequest, http_request)
        membership = getattr(request, "membership", None)
        match = request.resolver_match
        user = request.user
        if match is not None and getattr(match.func, "session_free", False):
            return None  # a page whose own credential is in its address (a share link): the session plays no part
        if match is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
            return _staff_second_factor(request, match.view_name)
        if (
            membership is None
            or match is None
            or not second_factor_missing(account=membership.account, session=request.session)
        ):
            return None
        name = match.view_name
        if name in _ENROLMENT_ROUTES or name.startswith("mfa_"):
            return None
        if request.path.startswith("/api/"):
            detail = _("This household requires a second factor: sign in with one (or set one up) first.")
            return JsonResponse({"detail": detail}, status=403)
        if has_second_factor(request.user):
            # Enrolled, but this session signed in with the password alone: confirm it once.
            messages.warning(
                request,
                _("%(household)s asks for your second factor to continue.") % {"household": membership.account.name},
            )
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
        messages.warning(
            request,
            _("%(household)s requires a second factor: set one up to continue.")
            % {"household": membership.account.name},
        )
        return redirect("mfa_index")


def _staff_second_factor(request: TenantRequest, name: str) -> HttpResponse | None:
    if session_used_second_factor(request.session):
        return None
    if name in _STAFF_ENROLMENT_ROUTES or name.startswith("mfa_"):
        return None
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Staff accounts sign in with a second factor first.")}, status=403)
    if has_second_factor(request.user):
        messages.warning(request, _("Staff accounts confirm their second factor in every session."))
        return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': request.get_full_path()})}")
    messages.warning(request, _("Staff accounts need a second factor: set one up to continue."))
    return redirect("mfa_index")


class SessionActivityMiddleware:
    """Keep the sessions list's "last seen", address and browser current, once a minute per
    session rather than on every request (allauth's own tracking writes a row per request)."""

    EVERY_S = 60
    STAMP = "nvr_session_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.session_key and request.user.is_authenticated:
            now = int(time.time())
            if now - int(session.get(self.STAMP, 0)) >= self.EVERY_S:
                UserSession.objects.create_from_request(request)
                session[self.STAMP] = now
        return self.get_response(request)
