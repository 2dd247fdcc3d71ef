"""The public pages of a share link: ``/s/<secret>/`` (the clip's player and nothing else),
its video and its picture. No session is needed and none is used.

The secret is the identity: ``recordings.sharing`` finds the link's household from its
hash, and everything here runs in that household's scope on the link's own clip. An
unknown, expired or revoked link, or one whose clip is gone, raises the site's 404, the
same as any missing page. Every answer is ``no-store`` (``PrivateCacheMiddleware``), sends
no ``Referer`` (the secret is in the address) and asks search engines not to index it.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.audit import record_link_view
from accounts.models import AccessKind
from accounts.tenancy import account_scope
from recordings import sharing
from recordings.models import ShareLink
from recordings.sharing import SharedClip
from recordings.views.playback import clip_label, clip_response, thumbnail_response

SharedView = Callable[[HttpRequest, SharedClip], HttpResponseBase]


def _public_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def shared(view: SharedView) -> Callable[..., HttpResponseBase]:
    """Finds the link by its secret and runs ``view`` in its household's scope, on its clip."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponseBase:
        found = sharing.link_account_id(token)
        if found is None:
            raise Http404(_("No such page."))
        account_id, link_id = found
        with account_scope(account_id):
            response = view(request, sharing.shared_clip_in_scope(account_id=account_id, link_id=link_id), **kwargs)
            if isinstance(response, TemplateResponse) and not response.is_rendered:
                response.render()
        return _public_headers(response)

    # The session plays no part: a household's second-factor rule for whoever is signed in
    # in this browser does not apply to a link (SecondFactorRequiredMiddleware).
    wrapper.session_free = True  # type: ignore[attr-defined]
    return wrapper


def _label(clip: SharedClip) -> str:
    return f"{clip_label(clip.recording)}, shared by {clip.link.created_by_label}"


@require_http_methods(["GET", "HEAD"])
@shared
def page(request: HttpRequest, clip: SharedClip) -> HttpResponseBase:
    """The clip's player, its start and its length: nothing else of the household."""
    if request.method == "GET":
        if sharing.over_rate_limit(clip.account_id, clip.link.pk):
            return HttpResponse(
                _("This link was opened too often in the last minute; try again shortly."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        ShareLink.objects.filter(pk=clip.link.pk).update(views=F("views") + 1, last_viewed_at=timezone.now())
        _record(request, clip, page_view=True)
    return render(request, "recordings/shared_clip.html", {"recording": clip.recording})


def _record(request: HttpRequest, clip: SharedClip, *, page_view: bool) -> None:
    record_link_view(
        request=request,
        account_id=clip.account_id,
        link_id=clip.link.pk,
        link_label=clip.link.created_by_label,
        object_type="recording",
        object_id=clip.recording.pk,
        object_label=_label(clip),
        page_view=page_view,
    )


@require_http_methods(["GET", "HEAD"])
@shared
def video(request: HttpRequest, clip: SharedClip) -> HttpResponseBase:
    response, viewed = clip_response(request, clip.recording, kind=AccessKind.CLIP_PLAY)
    if viewed is not None:
        _record(request, clip, page_view=False)  # once per link and address: the page wrote it already
    return response


@require_http_methods(["GET", "HEAD"])
@shared
def thumbnail(request: HttpRequest, clip: SharedClip) -> HttpResponseBase:
    response, _viewed = thumbnail_response(request, clip.recording)
    return response
