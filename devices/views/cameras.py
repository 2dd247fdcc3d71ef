"""Cameras of the active household: the live grid, a camera's page, managing cameras and tokens.

Every camera is looked up in the active household's scope, among the cameras
the person may see, before any role check: another household's camera, or one
an owner kept from them, is a 404 for every role.
"""

import base64
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.audit import record_access
from accounts.confirm import Confirmation, confirmation_page, confirmed
from accounts.decorators import account_required
from accounts.http import TenantRequest
from accounts.models import AccessKind, Membership
from devices import presets
from devices.extensions import device_endpoints, settings_summaries, settings_values
from devices.forms import CameraAddForm, CameraEditForm, CameraStreamForm
from devices.models import Camera, CameraKind
from devices.probe import TooManyTests, camera_test
from devices.selectors import camera_get, cameras_list, shows_online, watchers
from devices.services import camera_create, camera_delete, camera_update, token_revoke, token_rotate
from devices.status import status_message_text

DEVICE_SOCKET_PATH = "/ws/device/"  # nvr/routing.py: "device-socket"


def _membership(request: TenantRequest) -> Membership:
    assert request.membership is not None  # account_required
    return request.membership


def _manager(request: TenantRequest) -> Membership:
    """The membership of an owner or member; a viewer gets 403 on the GET of a managing
    page as on its POST (look the camera up first: another household's is a 404)."""
    membership = _membership(request)
    if not membership.can_manage_cameras:
        raise PermissionDenied(_("Only owners and members manage cameras."))
    return membership


@require_http_methods(["GET", "HEAD"])
@account_required
def live_grid(request: TenantRequest) -> HttpResponse:
    return render(request, "devices/grid.html", {"cameras": cameras_list(viewer=_membership(request))})


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def camera_add(request: TenantRequest) -> HttpResponse:
    membership = _manager(request)
    form = CameraAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            camera, token = camera_create(
                actor=membership, name=data["name"], kind=CameraKind(data["kind"]), source_url=data["source_url"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if token:
                return _show_token(request, camera, token)
            messages.success(
                request,
                _("Added %(name)s. The ingest worker starts reading it within seconds.") % {"name": camera.name},
            )
            return redirect("devices:camera", camera_id=camera.pk)
    context = {"form": form, "presets": presets.as_json()}
    return render(request, "devices/camera_add.html", context, status=400 if form.errors else 200)


@require_http_methods(["POST"])
@account_required
def camera_test_view(request: TenantRequest) -> HttpResponse:
    """The add page's "Test connection": the same fields, read for a few seconds (devices.probe)."""
    membership = _manager(request)
    form = CameraStreamForm(request.POST)
    if not form.is_valid():
        errors = {name: [str(text) for text in texts] for name, texts in form.errors.items()}
        return JsonResponse({"ok": False, "errors": errors}, status=400)
    try:
        result = camera_test(actor=membership, url=form.cleaned_data["source_url"])
    except TooManyTests as refused:
        return JsonResponse({"ok": False, "outcome": "throttled", "message": str(refused)}, status=429)
    return JsonResponse(
        {
            "ok": result.ok,
            "outcome": result.outcome,
            "message": result.message,
            "codec": result.codec,
            "width": result.width,
            "height": result.height,
            # Base64, drawn from a blob: URL by the page (the CSP allows no data: images).
            "snapshot": base64.b64encode(result.jpeg).decode() if result.jpeg else None,
        }
    )


def _show_token(request: TenantRequest, camera: Camera, token: str) -> HttpResponse:
    """The token, once: rendered in this response only, never stored in the clear; with the
    addresses the camera needs, as this request reached the site."""
    scheme = "wss" if request.is_secure() else "ws"
    endpoints = [
        {"key": e.key, "label": e.label, "help": e.help, "url": request.build_absolute_uri(reverse(e.route))}
        for e in device_endpoints()
    ]
    context = {
        "camera": camera,
        "token": token,
        "socket_url": f"{scheme}://{request.get_host()}{DEVICE_SOCKET_PATH}",
        "endpoints": endpoints,
    }
    return render(request, "devices/camera_token.html", context)


@require_http_methods(["GET", "HEAD"])
@account_required
def camera_detail(request: TenantRequest, camera_id: uuid.UUID) -> HttpResponse:
    camera = camera_get(viewer=_membership(request), camera_id=camera_id)
    context = {
        "camera": camera,
        "watchers": watchers(camera=camera),
        "status_message": status_message_text(camera.status_message),
    }
    return render(request, "devices/camera_detail.html", context)


@require_http_methods(["GET", "HEAD"])
@account_required
def camera_status(request: TenantRequest, camera_id: uuid.UUID) -> HttpResponse:
    """What the camera page refreshes every two seconds."""
    camera = camera_get(viewer=_membership(request), camera_id=camera_id)
    online = shows_online(camera)
    return JsonResponse(
        {
            "id": str(camera.pk),
            "enabled": camera.enabled,
            "status": camera.status if online or not camera.is_online else "offline",
            "status_message": status_message_text(camera.status_message),
            "fps": camera.live_fps if online else 0,
            "last_seen": camera.last_seen_at.isoformat() if camera.last_seen_at else None,
            "watchers": watchers(camera=camera),
        }
    )


@require_http_methods(["POST"])
@account_required
def camera_snapshot(request: TenantRequest, camera_id: uuid.UUID) -> HttpResponse:
    """The page saves a picture of the live view (in the browser, from what it shows): the
    household's access history says who did, before the page offers the file."""
    membership = _membership(request)
    camera = camera_get(viewer=membership, camera_id=camera_id)  # another household's: 404
    record_access(
        account_id=camera.account_id,
        actor=membership.user,
        membership=membership,
        kind=AccessKind.SNAPSHOT,
        object_type="camera",
        object_id=camera.pk,
        object_label=camera.name,
        request=request,
    )
    return JsonResponse({"recorded": True})


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def camera_edit(request: TenantRequest, camera_id: uuid.UUID) -> HttpResponse:
    camera = camera_get(viewer=_membership(request), camera_id=camera_id)  # another household's: 404 first
    membership = _manager(request)
    initial = {"name": camera.name, "enabled": camera.enabled, **settings_values(camera)}
    form = CameraEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            camera_update(
                actor=membership,
                camera=camera,
                name=data["name"],
                enabled=data["enabled"],
                source_url=data["source_url"] or None,
                settings=form.settings(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved %(name)s.") % {"name": camera.name})
            return redirect("devices:camera", camera_id=camera.pk)
    context = {"form": form, "camera": camera, "settings_summary": settings_summaries(camera)}
    return render(request, "devices/camera_edit.html", context, status=400 if form.errors else 200)


def _back_to(camera: Camera) -> str:
    return reverse("devices:camera", kwargs={"camera_id": camera.pk})


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def camera_delete_view(request: TenantRequest, camera_id: uuid.UUID) -> HttpResponse:
    camera = camera_get(viewer=_membership(request), camera_id=camera_id)  # another household's: 404 first
    membership = _manager(request)
    if not confirmed(request):
        question = Confirmation(
            title=_("Delete %(name)s?") % {"name": camera.name},
            explanation=_(
                "The camera, its token and all its recordings are deleted for good; "
                "anyone watching it live is disconnected."
            ),
            action=_("Delete the camera and its recordings"),
            cancel_url=_back_to(camera),
        )
        return confirmation_page(request, question)
    camera_delete(actor=membership, camera=camera)
    messages.success(request, _("Deleted %(name)s.") % {"name": camera.name})
    return redirect("devices:grid")


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def camera_token_rotate(request: TenantRequest, camera_id: uuid.UUID) -> HttpResponse:
    camera = camera_get(viewer=_membership(request), camera_id=camera_id)  # another household's: 404 first
    membership = _manager(request)
    if not confirmed(request):
        question = Confirmation(
            title=_("Issue a new token for %(name)s?") % {"name": camera.name},
            explanation=_(
                "The camera's current token stops working at once: the camera is disconnected "
                "until you enter the new token in it."
            ),
            action=_("Issue a new token"),
            cancel_url=_back_to(camera),
        )
        return confirmation_page(request, question)
    try:
        token = token_rotate(actor=membership, camera=camera)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("devices:camera", camera_id=camera.pk)
    return _show_token(request, camera, token)


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
def camera_token_revoke(request: TenantRequest, camera_id: uuid.UUID) -> HttpResponse:
    camera = camera_get(viewer=_membership(request), camera_id=camera_id)  # another household's: 404 first
    membership = _manager(request)
    if not confirmed(request):
        question = Confirmation(
            title=_("Revoke the token of %(name)s?") % {"name": camera.name},
            explanation=_("The camera is disconnected and cannot send pictures or clips until you issue a new token."),
            action=_("Revoke the token"),
            cancel_url=_back_to(camera),
        )
        return confirmation_page(request, question)
    try:
        token_revoke(actor=membership, camera=camera)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Revoked the token of %(name)s: it is disconnected until you issue a new one.") % {"name": camera.name},
        )
    return redirect("devices:camera", camera_id=camera.pk)
