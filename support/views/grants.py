"""The household's side: owners give support a time-limited grant, and end it.

Everyone in the household sees the grants (who gave them, why, until when);
only owners give or end one. A grant is looked up in the active household's
scope, so another household's grant is a 404 like a missing one.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import account_required
from accounts.http import TenantRequest
from devices.selectors import cameras_list
from support.forms import GrantForm
from support.selectors import grant_get, grants_list
from support.services import grant_create, grant_end


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def grants(request: TenantRequest) -> HttpResponse:
    actor = request.membership
    assert actor is not None  # account_required
    if request.method == "POST" and not actor.is_owner:
        raise PermissionDenied(_("Only an owner can give support access."))
    cameras = cameras_list(viewer=actor)
    form = GrantForm(request.POST or None, cameras=cameras)
    if request.method == "POST" and form.is_valid():
        try:
            grant = grant_create(
                actor=actor, reason=form.cleaned_data["reason"], hours=form.cleaned_data["hours"], cameras=form.chosen()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # In the person's time zone (the middleware's active one), as every page shows times.
            until = formats.date_format(timezone.localtime(grant.expires_at), "SHORT_DATETIME_FORMAT")
            messages.success(request, _("Support may look until %(until)s.") % {"until": until})
            return redirect("support-grants:list")
    # Cameras kept from a limited member are not named to them (as everywhere else).
    visible = {camera.pk for camera in cameras}
    rows = [
        (grant, [gc.camera.name for gc in grant.grant_cameras.all() if gc.camera_id in visible])
        for grant in grants_list()
    ]
    rows = [(grant, names) for grant, names in rows if grant.all_cameras or names]
    context = {"form": form, "grants": rows}
    return render(request, "support/grants.html", context, status=400 if form.errors else 200)


@require_POST
@account_required
def grant_end_view(request: TenantRequest, grant_id: uuid.UUID) -> HttpResponse:
    actor = request.membership
    assert actor is not None  # account_required
    grant = grant_get(grant_id=grant_id)
    grant_end(actor=actor, grant=grant)
    messages.success(request, _("Support access ended. Anything support had open has closed."))
    return redirect("support-grants:list")
