"""Request middleware: the household scope and private caching."""

from collections.abc import Callable
from typing import cast

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from accounts.http import TenantRequest
from accounts.models import Membership
from accounts.selectors import memberships_for_user
from accounts.tenancy import account_scope, user_scope

ACTIVE_ACCOUNT_SESSION_KEY = "nvr_active_account"


def choose_active_membership(memberships: list[Membership], wanted: str | None) -> Membership | None:
    """The session's chosen household if the user still belongs to it, else their first."""
    for membership in memberships:
        if str(membership.account_id) == wanted:
            return membership
    return memberships[0] if memberships else None


class TenantMiddleware:
    """Resolve the active household once, from the signed-in user only, and run
    the view *and its rendering* inside that household's scope.

    The household never comes from the URL, a form or a header: only from the
    user's memberships (the session merely remembers which of them is active).
    A user in no household gets no scope at all, never "every household".
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
        with user_scope(user.pk):
            request.memberships = memberships_for_user(user_id=user.pk)
        active = choose_active_membership(request.memberships, request.session.get(ACTIVE_ACCOUNT_SESSION_KEY))
        if active is None:
            return self.get_response(request)
        request.membership = active
        with account_scope(active.account_id, user_id=user.pk):
            response = self.get_response(request)
            # Render inside the scope: a TemplateResponse's querysets are lazy.
            render = getattr(response, "render", None)
            if callable(render) and not getattr(response, "is_rendered", True):
                render()
            if response.status_code >= 500:
                # The view failed after it may have written: keep nothing.
                transaction.set_rollback(True)
        return response


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
