"""The household's storage: used against the quota (everyone sees it), the quota (owners set it)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.decorators import account_required
from accounts.http import TenantRequest
from recordings.forms import StorageQuotaForm
from recordings.retention import GB, storage_quota_set, storage_usage_seen_by


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def storage(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    assert membership is not None  # account_required
    usage = storage_usage_seen_by(membership)
    form = StorageQuotaForm(request.POST or None, initial=StorageQuotaForm.initial_for(usage.quota_bytes, GB))
    if request.method == "POST":
        if not membership.is_owner:
            raise PermissionDenied(_("Only an owner can change the household's storage quota."))
        if form.is_valid():
            try:
                storage_quota_set(actor=membership, quota_gb=form.cleaned_data["storage_quota_gb"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Storage quota saved."))
                return redirect("recordings:storage")
    context = {"form": form, "usage": usage}
    return render(request, "recordings/storage.html", context, status=400 if form.errors else 200)
