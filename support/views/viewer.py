"""The support viewer: what a household's grant lets support staff see, and nothing else.

Pages of its own (never the household's pages, never as a member). Each route
takes the grant's id, resolves it with ``grant_access`` (a staff session that
used its second factor, an active grant, else 404) and runs in that household's
scope, limited to the grant's cameras. Every view of video is an access event
with ``via=support``; every page is a read in the household's support log.
"""

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.audit import record_access_once
from accounts.models import AccessKind, AccessVia, User
from accounts.staff import staff_session_ready
from accounts.support_audit import staff_read_record
from accounts.tenancy import account_scope, unscoped
from recordings.views.playback import Viewed, clip_label, clip_response, thumbnail_response
from support.access import (
    GrantAccess,
    grant_access_in_scope,
    grant_account_id,
    granted_camera_get,
    granted_cameras,
    granted_recording_get,
    granted_recordings,
)
from support.models import SupportGrant

View = Callable[..., HttpResponseBase]
# The grant page lists this many of the newest clips it covers.
LATEST_CLIPS = 100


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def staff_required(view: View) -> View:
    """Signed in (else the sign-in page), support staff with a second factor (else 404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not staff_session_ready(_staff(request), request.session):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def grant_required(view: Callable[..., HttpResponseBase]) -> View:
    """``staff_required``, then the grant named in the URL: the view gets its
    ``GrantAccess`` and runs, rendering included, inside that household's scope."""

    @staff_required
    @wraps(view)
    def wrapper(request: HttpRequest, grant_id: uuid.UUID, **kwargs: Any) -> HttpResponseBase:
        # staff_required checked the session; the grant is read once, in the scope the view runs in.
        account_id = grant_account_id(grant_id)
        if account_id is None:
            raise Http404("No such support grant.")
        with account_scope(account_id):
            response = view(request, grant_access_in_scope(grant_id=grant_id), **kwargs)
            if isinstance(response, TemplateResponse) and not response.is_rendered:
                response.render()
        return response

    return wrapper


def _seen(request: HttpRequest, access: GrantAccess, summary: str) -> None:
    staff_read_record(staff=_staff(request), account_ids=[access.account_id], summary=summary)


@require_http_methods(["GET", "HEAD"])
@staff_required
def grants(request: HttpRequest) -> HttpResponse:
    """Every active grant households gave (their names and reasons: support's to-do list)."""
    with unscoped("support viewer: the active grants of every household"):
        active = list(
            SupportGrant.objects.filter(ended_at__isnull=True, expires_at__gt=timezone.now())
            .select_related("account")
            .order_by("expires_at")
        )
        staff_read_record(
            staff=_staff(request),
            account_ids=[grant.account_id for grant in active],
            summary="saw your support grant in support's list",
        )
    return render(request, "support/viewer_grants.html", {"grants": active})


@require_http_methods(["GET", "HEAD"])
@grant_required
def grant(request: HttpRequest, access: GrantAccess) -> HttpResponse:
    cameras = list(granted_cameras(access).order_by("name"))
    clips = list(granted_recordings(access).order_by("-started_at")[:LATEST_CLIPS])
    _seen(request, access, "opened the cameras and clips your grant covers")
    return render(request, "support/viewer_grant.html", {"access": access, "cameras": cameras, "clips": clips})


@require_http_methods(["GET", "HEAD"])
@grant_required
def live(request: HttpRequest, access: GrantAccess, camera_id: uuid.UUID) -> HttpResponse:
    camera = granted_camera_get(access, camera_id)
    _seen(request, access, f"opened the live page of camera “{camera.name}”")
    # The access event is the socket's (it starts the view); the page only shows where.
    socket = f"/ws/support/{access.grant_id}/live/{camera.pk}/"
    return render(request, "support/viewer_live.html", {"access": access, "camera": camera, "socket": socket})


@require_http_methods(["GET", "HEAD"])
@grant_required
def clip(request: HttpRequest, access: GrantAccess, recording_id: uuid.UUID) -> HttpResponse:
    recording = granted_recording_get(access, recording_id)
    _seen(request, access, f"opened the clip {clip_label(recording)}")
    return render(request, "support/viewer_clip.html", {"access": access, "recording": recording})


def _served(
    request: HttpRequest, access: GrantAccess, served: tuple[HttpResponseBase, Viewed | None]
) -> HttpResponseBase:
    """The response, after its access event: ``via=support``, under the staff person's name."""
    response, viewed = served
    if viewed is not None:
        record_access_once(
            request=request, account_id=access.account_id, actor=_staff(request), via=AccessVia.SUPPORT, **vars(viewed)
        )
    return response


@require_http_methods(["GET", "HEAD"])
@grant_required
def clip_video(request: HttpRequest, access: GrantAccess, recording_id: uuid.UUID) -> HttpResponseBase:
    recording = granted_recording_get(access, recording_id)
    return _served(request, access, clip_response(request, recording, kind=AccessKind.CLIP_PLAY))


@require_http_methods(["GET", "HEAD"])
@grant_required
def clip_thumbnail(request: HttpRequest, access: GrantAccess, recording_id: uuid.UUID) -> HttpResponseBase:
    recording = granted_recording_get(access, recording_id)
    return _served(request, access, thumbnail_response(request, recording))
