"""Home page, the household list and switcher, invitations to join, household settings."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.confirm import Confirmation, confirmation_page, confirmed
from accounts.decorators import account_required, failures_throttled
from accounts.forms import HouseholdForm
from accounts.http import TenantRequest
from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.models import Membership
from accounts.selectors import (
    invitation_for_invitee_get,
    invitations_for_invitee,
    members_list,
    membership_for_account,
)
from accounts.services import (
    account_activate,
    account_create,
    account_rename,
    account_require_second_factor,
    invitation_accept,
    invitation_decline,
)


@require_http_methods(["GET", "HEAD"])
@account_required
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
            _make_active(request, membership)
            messages.success(
                request,
                _("Created %(household)s. It is now your active household.") % {"household": membership.account.name},
            )
            return redirect("accounts:home")
    context = {"form": form, "invitations": invitations_for_invitee(user=request.user)}
    return render(request, "accounts/households.html", context, status=400 if form.errors else 200)


def _make_active(request: TenantRequest, membership: Membership) -> None:
    """This session works in the household from now on, and sign-in will pick it."""
    account_activate(membership=membership)
    request.session[ACTIVE_ACCOUNT_SESSION_KEY] = str(membership.account_id)


@require_POST
@login_required
def household_switch(request: TenantRequest, account_id: uuid.UUID) -> HttpResponse:
    """Make another of the user's own households active (404 for any other id)."""
    membership = membership_for_account(memberships=request.memberships, account_id=account_id)
    _make_active(request, membership)
    messages.success(request, _("Now viewing %(household)s.") % {"household": membership.account.name})
    return redirect("accounts:home")


@require_POST
@login_required
@failures_throttled("invitation")
def invitation_accept_view(request: TenantRequest, invitation_id: uuid.UUID) -> HttpResponse:
    """Join a household that invited the user's verified address (404 for any other invitation)."""
    invitation = invitation_for_invitee_get(user=request.user, invitation_id=invitation_id)
    try:
        membership = invitation_accept(user=request.user, invitation=invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:households")
    _make_active(request, membership)
    messages.success(
        request,
        _("You joined %(household)s. It is now your active household.") % {"household": invitation.household_name},
    )
    return redirect("accounts:home")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def invitation_decline_view(request: TenantRequest, invitation_id: uuid.UUID) -> HttpResponse:
    invitation = invitation_for_invitee_get(user=request.user, invitation_id=invitation_id)
    if not confirmed(request):
        question = Confirmation(
            title=_("Decline the invitation to %(household)s?") % {"household": invitation.household_name},
            explanation=_("The invitation is removed; to join later, ask its owner for a new one."),
            action=_("Decline it"),
            cancel_url=reverse("accounts:households"),
        )
        return confirmation_page(request, question)
    invitation_decline(user=request.user, invitation=invitation)
    messages.success(request, _("Declined the invitation to %(household)s.") % {"household": invitation.household_name})
    return redirect("accounts:households")


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def household_settings(request: TenantRequest) -> HttpResponse:
    assert request.membership is not None
    account = request.membership.account
    initial = {"name": account.name, "require_second_factor": account.require_second_factor}
    form = HouseholdForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                account_rename(actor=request.membership, name=form.cleaned_data["name"])
                account_require_second_factor(
                    actor=request.membership, required=form.cleaned_data["require_second_factor"]
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Household settings saved."))
            return redirect("accounts:household-settings")
    return render(request, "accounts/household_settings.html", {"form": form}, status=400 if form.errors else 200)
