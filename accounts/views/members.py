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
from django.utils.translation import gettext as _
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
            messages.success(
                request,
                _("Invitation sent to %(email)s. They join when they accept it.") % {"email": invitation.email},
            )
            return redirect("accounts:members")
    context = {"form": form, "members": members_list(), "invitations": invitations_list()}
    return render(request, "accounts/members.html", context, status=400 if form.errors else 200)


def _require_owner(request: TenantRequest, refusal: str) -> None:
    """A page's GET answers like its POST would: 403 (saying ``refusal``) for a role that cannot do it."""
    assert request.membership is not None
    if not request.membership.is_owner:
        raise PermissionDenied(refusal)


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def member_edit(request: TenantRequest, membership_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    target = membership_get(membership_id=membership_id)  # another household's: 404 first
    _require_owner(request, _("Only an owner of this household can change roles."))
    form = MemberRoleForm(request.POST or None, initial={"role": target.role})
    if request.method == "POST" and form.is_valid():
        try:
            member_set_role(actor=request.membership, membership=target, role=Role(form.cleaned_data["role"]))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {"name": target.user.display_name, "role": target.get_role_display().lower()},
            )
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
        _require_owner(request, _("Only an owner of this household can remove members."))
    if not confirmed(request):
        account = request.membership.account.name
        if leaving:
            question = Confirmation(
                title=_("Leave %(household)s?") % {"household": account},
                explanation=_(
                    "You will no longer see the cameras and recordings of %(household)s. "
                    "Only an owner can invite you back."
                )
                % {"household": account},
                action=_("Leave the household"),
                cancel_url=reverse("accounts:members"),
            )
        else:
            question = Confirmation(
                title=_("Remove %(name)s?") % {"name": target.user.display_name},
                explanation=_(
                    "%(name)s (%(email)s) will no longer see the cameras and recordings of %(household)s; "
                    "any live view they have open closes."
                )
                % {"name": target.user.display_name, "email": target.user.email, "household": account},
                action=_("Remove them"),
                cancel_url=reverse("accounts:members"),
            )
        return confirmation_page(request, question)
    try:
        member_remove(actor=request.membership, membership=target)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:members")
    if leaving:
        messages.success(request, _("You left %(household)s.") % {"household": target.account.name})
        return redirect("accounts:households")
    messages.success(request, _("Removed %(name)s.") % {"name": target.user.display_name})
    return redirect("accounts:members")


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def invitation_revoke_view(request: TenantRequest, invitation_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None
    invitation = invitation_get(invitation_id=invitation_id)
    _require_owner(request, _("Only an owner of this household can withdraw invitations."))
    if not confirmed(request):
        question = Confirmation(
            title=_("Withdraw the invitation to %(email)s?") % {"email": invitation.email},
            explanation=_("Its link stops working. You can invite them again later."),
            action=_("Withdraw it"),
            cancel_url=reverse("accounts:members"),
        )
        return confirmation_page(request, question)
    invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, _("Withdrew the invitation to %(email)s.") % {"email": invitation.email})
    return redirect("accounts:members")
