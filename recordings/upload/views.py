"""Clip uploads from cameras: tus 1.0.0 (core, creation, creation-with-upload, termination, expiration).

Why tus: an open standard for resumable uploads with clients in every
language, and a chunked protocol keeps each request small. daphne holds a
request's whole body in memory before the application runs, so a clip travels
as several requests of at most ``RECORDINGS_MAX_CHUNK_BYTES``, each sealing
whole encrypted chunks (``Upload-Chunk-Multiple``).

The camera and household come from the device token only; nothing in a URL,
header or body names them. Another household's or camera's upload answers 404,
exactly like an unknown one.
"""

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from devices.api.authentication import DeviceAPIView
from recordings.upload import errors, protocol
from recordings.upload.constants import TUS_VERSION
from recordings.upload.protocol import TUS_EXTENSIONS, TusError
from recordings.upload.services import (
    CHUNK_MULTIPLE,
    UploadState,
    upload_append,
    upload_create,
    upload_get,
    upload_terminate,
)

# The one place an upload service's refusal becomes an HTTP status (its message is the body's detail).
_STATUS: dict[type[errors.UploadError], int] = {
    errors.InvalidPart: 400,
    errors.ChecksumMismatch: 400,
    errors.CameraGone: 401,  # with WWW-Authenticate, like any other rejected token
    errors.UploadNotFound: 404,
    errors.UploadConflict: 409,
    errors.LargerThanQuota: 413,  # Payload Too Large: no retry can help
    errors.TooManyOpenUploads: 429,  # not 409 (tus clients retry 409s at once): finish or cancel one first
    errors.PublishFailed: 500,
    errors.InFlightLimit: 507,  # Insufficient Storage: room comes back as the household's uploads finish
    errors.StorageFull: 507,  # the server's disk is full: the upload resumes from its last offset later
}


def as_tus_error(error: errors.UploadError) -> TusError:
    """The tus answer to a service's refusal (500 for a kind without a status, which is a bug)."""
    status = next((_STATUS[kind] for kind in type(error).__mro__ if kind in _STATUS), 500)
    return TusError(status, error.detail)


_TUS_HEADER = OpenApiParameter("Tus-Resumable", str, OpenApiParameter.HEADER, required=True, enum=[TUS_VERSION])


def _content_length(request: Request) -> int:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    return protocol.parse_integer(raw, "Content-Length")


def _body(request: Request) -> tuple[Any, int]:
    """How to read the body and how long it is; 413 from Content-Length alone, before reading it."""
    count = _content_length(request)
    protocol.check_body_length(count)
    http_request: HttpRequest = request._request
    return http_request.read, count


def _headers(response: Response, state: UploadState) -> Response:
    response["Upload-Offset"] = str(state.offset)
    response["Upload-Length"] = str(state.length)
    response["Upload-Chunk-Multiple"] = str(CHUNK_MULTIPLE)
    if state.expires_at is not None and not state.complete:
        response["Upload-Expires"] = http_date(state.expires_at.timestamp())
    if state.recording_id is not None:
        response["Recording-Id"] = str(state.recording_id)
        response["Recording-Location"] = protocol.recording_path(state.recording_id)
    return response


class _TusView(DeviceAPIView):
    """Device-token authentication (the handler runs in the token's household scope), the
    Tus-Resumable check, and errors as ``{"detail": ...}``."""

    # Bodies are clip parts, limited by RECORDINGS_MAX_CHUNK_BYTES here, not by nvr.limits.
    own_body_limit = True

    def check_permissions(self, request: Request) -> None:
        if request.method == "OPTIONS":
            return  # describes the server only (tus discovery), no household data
        super().check_permissions(request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS":
            protocol.check_version(request.headers.get("Tus-Resumable"))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, errors.UploadError | TusError):
            self.keep_nothing()
            return self.refused(exc)
        return super().handle_exception(exc)

    def refused(self, error: TusError | errors.UploadError) -> Response:
        """The answer to a refusal; returned (not raised) when what the service did must commit."""
        if isinstance(error, errors.UploadError):
            error = as_tus_error(error)
        response = Response({"detail": error.detail}, status=error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = self.get_authenticate_header(self.request)
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response["Tus-Resumable"] = TUS_VERSION
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(exclude=True)
    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        response = Response(status=204)
        response["Tus-Version"] = TUS_VERSION
        response["Tus-Extension"] = TUS_EXTENSIONS
        response["Tus-Max-Size"] = str(settings.RECORDINGS_MAX_UPLOAD_BYTES)
        response["Upload-Chunk-Multiple"] = str(CHUNK_MULTIPLE)
        response["Upload-Max-Chunk-Size"] = str(settings.RECORDINGS_MAX_CHUNK_BYTES)
        return response


class UploadCreateView(_TusView):
    """``POST``: start an upload of a clip (tus creation), optionally with its first bytes or all of them."""

    @extend_schema(parameters=[_TUS_HEADER], request=None, responses={201: None, 200: None})
    def post(self, request: Request) -> Response:
        # Everything is decided from the headers before the body is touched (413 included).
        spec = protocol.parse_creation(
            length=request.headers.get("Upload-Length"),
            metadata=request.headers.get("Upload-Metadata"),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        read, count = _body(request)
        if count:
            protocol.check_offset_content_type(request.headers.get("Content-Type"))
        state = upload_create(principal=self.principal(request), spec=spec, read=read if count else None, count=count)
        if state.refusal is not None:
            return self.refused(state.refusal)
        body = {
            "upload_id": str(state.upload_id) if state.upload_id else None,
            "offset": state.offset,
            "length": state.length,
            "recording_id": str(state.recording_id) if state.recording_id else None,
        }
        response = _headers(Response(body, status=201 if state.created else 200), state)
        if state.upload_id is not None:
            response["Location"] = protocol.upload_path(state.upload_id)
        response["Upload-Chunk-Multiple"] = str(CHUNK_MULTIPLE)
        return response


class UploadView(_TusView):
    """``HEAD`` (offset), ``PATCH`` (append bytes), ``DELETE`` (cancel) one upload of this camera."""

    @extend_schema(parameters=[_TUS_HEADER], responses={200: None})
    def head(self, request: Request, upload_id: uuid.UUID) -> Response:
        state = upload_get(principal=self.principal(request), upload_id=upload_id)
        return _headers(Response(status=200), state)

    @extend_schema(parameters=[_TUS_HEADER], request=None, responses={204: None})
    def patch(self, request: Request, upload_id: uuid.UUID) -> Response:
        protocol.check_offset_content_type(request.headers.get("Content-Type"))
        offset = protocol.parse_integer(request.headers.get("Upload-Offset"), "Upload-Offset")
        read, count = _body(request)
        state = upload_append(
            principal=self.principal(request), upload_id=upload_id, offset=offset, read=read, count=count
        )
        if state.refusal is not None:
            return self.refused(state.refusal)
        return _headers(Response(status=204), state)

    @extend_schema(parameters=[_TUS_HEADER], responses={204: None})
    def delete(self, request: Request, upload_id: uuid.UUID) -> Response:
        upload_terminate(principal=self.principal(request), upload_id=upload_id)
        return Response(status=204)
