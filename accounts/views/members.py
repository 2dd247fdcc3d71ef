"""Members of the active household: list, invite by email, change role, remove.

Every object is looked up in the active household's scope *before* any role
check, so another household's member is a 404 for every role, like a missing one.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.confirm import Confirmation, confirmation_page, confirmed
from accounts.decorators import account_required
from accounts.forms import InviteForm, MemberRoleForm
from accounts.http import TenantRequest
from accounts.models import Role
from accounts.selectors import invitation_get, invitations_list, members_list, membership_get
from accounts.services import invitation_create, invitation_revoke, member_remove, member_set_role


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def members(request: TenantRequest) -> HttpResponse:
    assert request.membership is not None
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitation_create(
                actor=request.membership, email=form.cleaned_data["email"], role=Role(form.cleaned_data["role"])
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}. They join when they accept it.")
            return redirect("accounts:members")
    context = {"form": form, "members": members_list(), "invitations": invitations_list()}
    return render(request, "accounts/members.html", context, status=400 if form.errors else 200)


def _require_owner(request: TenantRequest, action: str) -> None:
    """A page's GET answers like its POST would: 403 for a role that cannot do it."""
    assert request.membership is not None
    if not request.membership.is_owner:
        raise PermissionDenied(f"Only an owner of this household can {action}.")


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def member_edit(request: TenantRequest, membership_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    target = membership_get(membership_id=membership_id)  # another household's: 404 first
    _require_owner(request, "change roles")
    form = MemberRoleForm(request.POST or None, initial={"role": target.role})
    if request.method == "POST" and form.is_valid():
        try:
            member_set_role(actor=request.membership, membership=target, role=Role(form.cleaned_data["role"]))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{target.user.display_name} is now {target.get_role_display()}.")
            return redirect("accounts:members")
    context = {"form": form, "target": target}
    return render(request, "accounts/member_edit.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def member_remove_view(request: TenantRequest, membership_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    target = membership_get(membership_id=membership_id)
    leaving = target.pk == request.membership.pk
    if not leaving:
        _require_owner(request, "remove members")
    if not confirmed(request):
        account = request.membership.account.name
        if leaving:
            question = Confirmation(
                title=f"Leave {account}?",
                explanation=f"You will no longer see {account}'s cameras and recordings. "
                "Only an owner can invite you back.",
                action="Leave the household",
                cancel_url=reverse("accounts:members"),
            )
        else:
            question = Confirmation(
                title=f"Remove {target.user.display_name}?",
                explanation=f"{target.user.display_name} ({target.user.email}) will no longer see {account}'s "
                "cameras and recordings; any live view they have open closes.",
                action="Remove them",
                cancel_url=reverse("accounts:members"),
            )
        return confirmation_page(request, question)
    try:
        member_remove(actor=request.membership, membership=target)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:members")
    if leaving:
        messages.success(request, f"You left {target.account.name}.")
        return redirect("accounts:households")
    messages.success(request, f"Removed {target.user.display_name}.")
    return redirect("accounts:members")


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def invitation_revoke_view(request: TenantRequest, invitation_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    invitation = invitation_get(invitation_id=invitation_id)
    _require_owner(request, "withdraw invitations")
    if not confirmed(request):
        question = Confirmation(
            title=f"Withdraw the invitation to {invitation.email}?",
            explanation="Its link stops working. You can invite them again later.",
            action="Withdraw it",
            cancel_url=reverse("accounts:members"),
        )
        return confirmation_page(request, question)
    invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, f"Withdrew the invitation to {invitation.email}.")
    return redirect("accounts:members")
