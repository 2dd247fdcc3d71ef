from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.auth.client import FailureCounter, client_ip
from accounts.http import TenantRequest

View = Callable[..., HttpResponse]


def account_required(view: View) -> View:
    """Signed in and in a household; otherwise to sign-in or to creating a household."""

    @login_required
    @wraps(view)
    def wrapper(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.membership is None:
            messages.info(request, _("You are not in a household yet: create one, or ask an owner to add you."))
            return redirect("accounts:households")
        return view(request, *args, **kwargs)

    return wrapper


def failures_throttled(purpose: str) -> Callable[[View], View]:
    """Count a view's 404s per client address; past the limit, answer 429 without looking.

    For links that carry an id someone might guess (invitations): the 404 stays the
    same for a missing and a forbidden object, and guessing is stopped early."""
    counter = FailureCounter(purpose)

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            address = client_ip(request)
            if counter.blocked(address):
                return render(request, "too_many_attempts.html", status=429)
            try:
                return view(request, *args, **kwargs)
            except Http404:
                counter.failed(address)
                raise

        return wrapper

    return decorate
