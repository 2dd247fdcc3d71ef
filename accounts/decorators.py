from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect

from accounts.http import TenantRequest

View = Callable[..., HttpResponse]


def household_required(view: View) -> View:
    """Signed in and in a household; otherwise to sign-in or to creating a household."""

    @login_required
    @wraps(view)
    def wrapper(request: TenantRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.membership is None:
            messages.info(request, "You are not in a household yet: create one, or ask an owner to add you.")
            return redirect("accounts:households")
        return view(request, *args, **kwargs)

    return wrapper
