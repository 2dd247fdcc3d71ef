"""Portal pages of share links: sharing a clip, the links of the household, revoking one.

The clip is found with ``recording_get`` (the clip page's own lookup): another
household's clip, or one of a camera kept from the person, is a 404 before any
role is checked; a viewer gets 403 for a clip they can see. The new link's secret
is rendered in the response that made it, once, and never stored in the clear.
"""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accounts.confirm import Confirmation, confirmation_page, confirmed
from accounts.decorators import account_required
from accounts.http import TenantRequest
from accounts.models import Membership
from recordings.models import SHARE_LINK_LIFETIMES
from recordings.selectors import recording_get, share_link_get, share_links_active
from recordings.services import share_link_create, share_link_revoke
from recordings.views.pages import clip_words


class ShareForm(forms.Form):
    expires = forms.ChoiceField(
        label=_("The link works for"),
        choices=[(key, label) for key, (label, _seconds) in SHARE_LINK_LIFETIMES.items()],
        initial="1d",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose 1 hour, 1 day or 7 days."), "required": _("Choose how long.")},
    )


def _sharer(request: TenantRequest) -> Membership:
    membership = request.membership
    assert membership is not None  # account_required
    if not membership.can_delete_recordings:
        raise PermissionDenied(gettext("Only owners and members share clips."))
    return membership


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def clip_share(request: TenantRequest, recording_id: uuid.UUID) -> HttpResponse:
    """GET: how long the link should work; POST: make it and show it, once."""
    assert request.membership is not None
    recording = recording_get(viewer=request.membership, recording_id=recording_id)  # another's: 404 first
    membership = _sharer(request)
    form = ShareForm(request.POST if request.method == "POST" else None)
    context = {"recording": recording, "form": form}
    if request.method != "POST":
        return render(request, "recordings/share.html", context)
    if not form.is_valid():
        return render(request, "recordings/share.html", context, status=400)
    try:
        link, secret = share_link_create(actor=membership, recording=recording, lifetime=form.cleaned_data["expires"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("recordings:clip", recording_id=recording.pk)
    url = request.build_absolute_uri(reverse("shared:page", kwargs={"token": secret}))
    return render(request, "recordings/share_created.html", {**context, "link": link, "url": url})


@require_http_methods(["GET", "HEAD"])
@account_required
def shares(request: TenantRequest) -> HttpResponse:
    """The household's active links (of the clips the person may see)."""
    assert request.membership is not None
    links = share_links_active(viewer=request.membership)
    return render(request, "recordings/shares.html", {"links": links, "now": timezone.now()})


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def share_revoke(request: TenantRequest, link_id: uuid.UUID) -> HttpResponse:
    """Owners and members, after confirming; the link is a 404 from then on."""
    assert request.membership is not None
    link = share_link_get(viewer=request.membership, link_id=link_id)  # another household's: 404 first
    membership = _sharer(request)
    clip_url = reverse("recordings:clip", kwargs={"recording_id": link.recording_id})
    if not confirmed(request):
        question = Confirmation(
            title=gettext("Revoke this link?"),
            explanation=gettext("Whoever has the link to the clip of %(clip)s cannot open it any more, from now on.")
            % {"clip": clip_words(link.recording)},
            action=gettext("Revoke the link"),
            cancel_url=clip_url,
        )
        return confirmation_page(request, question)
    share_link_revoke(actor=membership, link=link)
    messages.success(request, gettext("The link is revoked: it no longer opens the clip."))
    return redirect(clip_url)
