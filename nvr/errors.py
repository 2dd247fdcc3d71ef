"""The site's 500 handler, which answers 503 when the database is what failed.

A dropped or refused database connection (PostgreSQL restarting, a failover, a
terminated backend) is not a bug and passes: the request is worth retrying, so
the answer is 503 with ``Retry-After``, the site's page or, under ``/api/``,
JSON ``{"detail": ...}``. Django calls this from inside its exception handling,
from any middleware or view, so ``sys.exc_info()`` names what failed. The broken
connection is closed when the request ends (``close_old_connections``), and the
next request opens a new one: the process recovers without a restart.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The database is unreachable for a moment. Please try again in a few seconds.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        # Like 500.html: rendered without a request or context processors, which could fail again.
        response = HttpResponse(loader.get_template("503.html").render({"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 for a database that is unreachable, else Django's 500 page."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    return defaults.server_error(request)
