"""Request bodies larger than the site accepts answer 413 with a readable message.

Django refuses a form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with ``RequestDataTooBig``,
which it answers as a 400; DRF's JSON parser reads the stream without that limit at all.
``RequestSizeMiddleware`` refuses from ``Content-Length`` before anything reads the body, and
``bad_request`` (the site's ``handler400``) turns a ``RequestDataTooBig`` raised later (a body
without a declared length) into the same 413. Views with a limit of their own (the clip
uploads, ``RECORDINGS_MAX_CHUNK_BYTES``) set ``own_body_limit = True``.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import defaults

__all__ = ["RequestSizeMiddleware", "bad_request", "too_large"]


def too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    message = _("The request is too large: this site accepts at most %(limit)d kB here.") % {"limit": limit // 1024}
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "413.html", {"message": message}, status=413)


def _has_own_limit(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    view_class = getattr(match.func, "view_class", None)
    return bool(getattr(match.func, "own_body_limit", False) or getattr(view_class, "own_body_limit", False))


class RequestSizeMiddleware:
    """413 for a declared body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, before it is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit and not _has_own_limit(request):
            return too_large(request)
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400, except a body found too large while reading it: 413."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    return defaults.bad_request(request, exception)
