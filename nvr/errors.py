"""The site's 500 handler, which answers 503 when a service is what failed.

A dropped or refused database connection (PostgreSQL restarting, a failover, a
terminated backend), or Redis (sessions and rate limits live in its cache) being
unreachable, is not a bug and passes: the request is worth retrying, so the
answer is 503 with ``Retry-After``, the site's page or, under ``/api/``, JSON
``{"detail": ...}``. Sessions are not read around the cache meanwhile: a sign-out
that could not reach the cache must not come back with it. Django calls this from inside its exception handling,
from any middleware or view, so ``sys.exc_info()`` names what failed. The broken
connection is closed when the request ends (``close_old_connections``), and the
next request opens a new one: the process recovers without a restart.
"""

import sys

import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
CACHE_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
RETRY_AFTER_SECONDS = 5


def service_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The site is unavailable for a moment. Please try again in a few seconds.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        # Like 500.html: rendered without a request or context processors, which could fail again.
        response = HttpResponse(loader.get_template("503.html").render({"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _unavailable(error: BaseException | None) -> bool:
    """Whether ``error``, or one it was raised while handling, is a service out of reach (a
    cache failure inside the session's load surfaces as another error around it)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, DATABASE_UNAVAILABLE + CACHE_UNAVAILABLE):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 for a database or cache that is unreachable, else Django's 500 page."""
    if _unavailable(sys.exc_info()[1]):
        return service_unavailable(request)
    return defaults.server_error(request)
