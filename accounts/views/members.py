"""Members of the active household: list, invite by email, change role, remove.

Every object is looked up in the active household's scope *before* any role
check, so another household's member is a 404 for every role, like a missing one.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import household_required
from accounts.forms import InviteForm, MemberRoleForm
from accounts.http import TenantRequest
from accounts.models import Role
from accounts.selectors import invitation_get, invitations_list, members_list, membership_get
from accounts.services import invitation_create, invitation_revoke, member_remove, member_set_role


@require_http_methods(["GET", "HEAD", "POST"])
@household_required
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


@require_http_methods(["GET", "HEAD", "POST"])
@household_required
def member_edit(request: TenantRequest, membership_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    target = membership_get(membership_id=membership_id)
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


@require_POST
@household_required
def member_remove_view(request: TenantRequest, membership_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    target = membership_get(membership_id=membership_id)
    leaving = target.pk == request.membership.pk
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


@require_POST
@household_required
def invitation_revoke_view(request: TenantRequest, invitation_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    invitation = invitation_get(invitation_id=invitation_id)
    invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, f"Withdrew the invitation to {invitation.email}.")
    return redirect("accounts:members")
