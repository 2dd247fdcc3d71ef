"""Home page, the household list and switcher, household settings."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import household_required
from accounts.forms import HouseholdForm
from accounts.http import TenantRequest
from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.selectors import members_list, membership_for_account
from accounts.services import account_create, account_rename


@require_http_methods(["GET", "HEAD"])
@household_required
def home(request: TenantRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"members": members_list()})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def households(request: TenantRequest) -> HttpResponse:
    """The user's households, and a form to create another one."""
    form = HouseholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = account_create(owner=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session[ACTIVE_ACCOUNT_SESSION_KEY] = str(membership.account_id)
            messages.success(request, f"Created {membership.account.name}. It is now your active household.")
            return redirect("accounts:home")
    return render(request, "accounts/households.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@login_required
def household_switch(request: TenantRequest, account_id: uuid.UUID) -> HttpResponse:
    """Make another of the user's own households active (404 for any other id)."""
    membership = membership_for_account(memberships=request.memberships, account_id=account_id)
    request.session[ACTIVE_ACCOUNT_SESSION_KEY] = str(membership.account_id)
    messages.success(request, f"Now viewing {membership.account.name}.")
    return redirect("accounts:home")


@require_http_methods(["GET", "HEAD", "POST"])
@household_required
def household_settings(request: TenantRequest) -> HttpResponse:
    assert request.membership is not None
    form = HouseholdForm(request.POST or None, initial={"name": request.membership.account.name})
    if request.method == "POST" and form.is_valid():
        try:
            account_rename(actor=request.membership, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Household renamed.")
            return redirect("accounts:household-settings")
    return render(request, "accounts/household_settings.html", {"form": form}, status=400 if form.errors else 200)
