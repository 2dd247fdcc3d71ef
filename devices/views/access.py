"""An owner chooses which cameras a member or viewer sees (linked from the members page).

The member is looked up in the active household's scope before the role check,
so another household's member is a 404 for every role, like a missing one.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import account_required
from accounts.http import TenantRequest
from accounts.selectors import membership_get
from devices.forms import CameraAccessForm
from devices.selectors import camera_access_of, cameras_list
from devices.services import camera_access_set


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def camera_access(request: TenantRequest, membership_id: uuid.UUID) -> HttpResponse:
    actor = request.membership
    assert actor is not None  # account_required
    target = membership_get(membership_id=membership_id)
    if not actor.is_owner:
        raise PermissionDenied(_("Only an owner chooses which cameras someone sees."))
    limited, granted = camera_access_of(membership=target)
    initial = {"limited": limited, "cameras": [str(camera_id) for camera_id in granted]}
    form = CameraAccessForm(request.POST or None, cameras=cameras_list(viewer=actor), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            camera_access_set(
                actor=actor, membership=target, limited=form.cleaned_data["limited"], cameras=form.chosen()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved which cameras %(name)s sees.") % {"name": target.user.display_name})
            return redirect("accounts:members")
    context = {"form": form, "target": target}
    return render(request, "devices/camera_access.html", context, status=400 if form.errors else 200)
