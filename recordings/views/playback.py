"""A clip's video, thumbnail and download: decrypted on the fly, with HTTP Range.

Every route looks the recording up in the active household's scope first
(``recording_get``), so another household's clip is a 404 like a missing one.
The file is opened (its header checked, its first chunk decrypted) before the
response starts, so a missing or undecryptable file is a clean 404 and never a
response that breaks off half-way. ``Cache-Control: private, no-store`` comes
from ``PrivateCacheMiddleware`` (asserted by the tests).
"""

import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.audit import record_access_once
from accounts.decorators import account_required
from accounts.http import TenantRequest
from accounts.models import AccessKind
from recordings import files
from recordings.models import ClipContainer, Recording, RecordingStatus
from recordings.selectors import reason_text, recording_get
from recordings.storage import StorageError
from recordings.views.ranges import ByteRange, Unsatisfiable, parse_range, streaming_response, unsatisfiable

logger = logging.getLogger("nvr.recordings")


def clip_label(recording: Recording) -> str:
    return f"{recording.camera.name}, {timezone.localtime(recording.started_at):%Y-%m-%d %H:%M:%S}"


def _record_once(
    request: TenantRequest,
    *,
    kind: AccessKind,
    key_id: uuid.UUID,
    object_type: str,
    object_id: uuid.UUID,
    object_label: str,
) -> None:
    """The member's access event, once per viewing (``record_access_once``)."""
    assert request.membership is not None
    record_access_once(
        request=request,
        account_id=request.membership.account_id,
        actor=request.user,
        membership=request.membership,
        kind=kind,
        key_id=key_id,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
    )


def not_ready(recording: Recording) -> HttpResponse:
    if recording.status == RecordingStatus.FAILED:
        message = _("This clip could not be processed: %(reason)s.") % {
            "reason": reason_text(recording, "failure") or _("unknown reason")
        }
    else:
        message = _("This clip is still being processed; try again in a moment.")
    return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")


def _unavailable(recording: Recording, kind: str, error: Exception) -> HttpResponse:
    logger.error("recording %s: its %s cannot be read: %s", recording.pk, kind, error)
    return HttpResponse(_("This clip's file is unavailable."), status=404, content_type="text/plain; charset=utf-8")


def serve_object(
    request: HttpRequest,
    recording: Recording,
    *,
    kind: str,
    size: int,
    content_type: str,
    max_range: int | None = None,
) -> HttpResponseBase:
    """200 or 206 over the decrypted object, 416 outside it; HEAD decrypts nothing.

    ``max_range`` shortens a larger range (206 says which bytes came): daphne has no
    back-pressure and would queue the rest of a clip in memory for a player that
    asked for ``bytes=0-`` and reads at playback speed; players ask again for more.
    """
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        return unsatisfiable(size)
    if wanted is not None and max_range is not None and wanted.length > max_range:
        wanted = ByteRange(wanted.start, wanted.start + max_range - 1)
    span = wanted or ByteRange(0, size - 1)
    response: HttpResponseBase
    if request.method == "HEAD" or size == 0:
        response = HttpResponse(status=206 if wanted else 200)
    else:
        try:
            chunks = files.open_range(recording, kind=kind, start=span.start, end_inclusive=span.end)
        except (StorageError, OSError) as error:
            return _unavailable(recording, kind, error)
        response = streaming_response(request, chunks)
        response.status_code = 206 if wanted else 200
    if wanted:
        response["Content-Range"] = f"bytes {span.start}-{span.end}/{size}"
    response["Content-Length"] = str(span.length if size else 0)
    response["Content-Type"] = content_type
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@dataclass(frozen=True)
class Viewed:
    """What a served clip or thumbnail was, for its access event (``key_id``: once per viewing)."""

    kind: AccessKind
    key_id: uuid.UUID
    object_type: str
    object_id: uuid.UUID
    object_label: str


# What the stored clip is (``Recording.container``): MP4, or WebM kept as uploaded.
CONTENT_TYPES: dict[str, str] = {ClipContainer.MP4: "video/mp4", ClipContainer.WEBM: "video/webm"}


def clip_response(
    request: HttpRequest, recording: Recording, *, kind: AccessKind
) -> tuple[HttpResponseBase, Viewed | None]:
    """The clip's video (to play, or to download), and what to record if any was served.
    Shared by the members' routes and the support viewer, which record it each their way."""
    if not recording.is_ready:
        return not_ready(recording), None
    download = kind == AccessKind.CLIP_DOWNLOAD
    response = serve_object(
        request,
        recording,
        kind=files.CLIP,
        size=recording.size_bytes,
        content_type=CONTENT_TYPES[recording.container],
        # Downloads get what they asked for (download managers resume with exact ranges).
        max_range=None if download else settings.RECORDINGS_MAX_RANGE_BYTES,
    )
    if download and response.status_code in (200, 206):
        response["Content-Disposition"] = f'attachment; filename="{download_name(recording)}"'
    if request.method != "GET" or response.status_code not in (200, 206):
        return response, None
    return response, Viewed(kind, recording.pk, "recording", recording.pk, clip_label(recording))


def thumbnail_response(request: HttpRequest, recording: Recording) -> tuple[HttpResponseBase, Viewed | None]:
    """The clip's thumbnail, and what to record if it was served: one event per person,
    camera and day of clips within the window, not one per thumbnail (a timeline page
    shows dozens of them at once)."""
    if not recording.has_thumbnail:
        return HttpResponse(
            _("This clip has no thumbnail."), status=404, content_type="text/plain; charset=utf-8"
        ), None
    try:
        size = files.clip_storage.plaintext_size(
            account_id=recording.account_id, object_id=recording.pk, kind=files.THUMBNAIL
        )
    except (StorageError, OSError) as error:
        return _unavailable(recording, files.THUMBNAIL, error), None
    response = serve_object(request, recording, kind=files.THUMBNAIL, size=size, content_type="image/jpeg")
    if request.method != "GET" or response.status_code not in (200, 206):
        return response, None
    day = timezone.localdate(recording.started_at)
    label = f"{recording.camera.name}, thumbnails of {day:%Y-%m-%d}"
    key = uuid.uuid5(recording.camera_id, day.isoformat())
    return response, Viewed(AccessKind.THUMBNAIL, key, "camera", recording.camera_id, label)


def _member_response(request: TenantRequest, served: tuple[HttpResponseBase, Viewed | None]) -> HttpResponse:
    response, viewed = served
    if viewed is not None:
        _record_once(request, **vars(viewed))
    # A streaming response where ``account_required``'s type says HttpResponse.
    return cast(HttpResponse, response)


def _clip(request: TenantRequest, recording_id: uuid.UUID, *, kind: AccessKind) -> HttpResponse:
    assert request.membership is not None  # account_required
    recording = recording_get(viewer=request.membership, recording_id=recording_id)
    return _member_response(request, clip_response(request, recording, kind=kind))


@require_http_methods(["GET", "HEAD"])
@account_required
def clip_video(request: TenantRequest, recording_id: uuid.UUID) -> HttpResponse:
    return _clip(request, recording_id, kind=AccessKind.CLIP_PLAY)


def download_name(recording: Recording) -> str:
    """``<camera>-<YYYY-MM-DD_HH-MM-SS>.mp4`` (``.webm`` for a WebM clip) in ASCII letters, digits, ``-`` and ``_``."""
    ascii_name = unicodedata.normalize("NFKD", recording.camera.name).encode("ascii", "ignore").decode()
    camera = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_name)
    camera = re.sub(r"[-_]{2,}", "-", camera).strip("-_")[:60] or "camera"
    return f"{camera}-{timezone.localtime(recording.started_at):%Y-%m-%d_%H-%M-%S}.{recording.container}"


@require_http_methods(["GET", "HEAD"])
@account_required
def clip_download(request: TenantRequest, recording_id: uuid.UUID) -> HttpResponse:
    return _clip(request, recording_id, kind=AccessKind.CLIP_DOWNLOAD)


@require_http_methods(["GET", "HEAD"])
@account_required
def clip_thumbnail(request: TenantRequest, recording_id: uuid.UUID) -> HttpResponse:
    assert request.membership is not None  # account_required
    recording = recording_get(viewer=request.membership, recording_id=recording_id)
    return _member_response(request, thumbnail_response(request, recording))
