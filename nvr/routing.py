"""Websocket routes. Every route here must be known to the isolation matrix
(``nvr/tests/test_isolation_matrix.py``), which fails on any it does not cover.

Browser sockets are checked against the site's exact origins (``NVR_ALLOWED_ORIGINS``,
nvr/origins.py) and session-authenticated; the camera socket takes a device token
instead (cameras send neither cookies nor Origin, and a page cannot set the
Authorization header of a websocket, so no origin check is needed there).
While Redis is unreachable, every socket is accepted and closed with 1013, try again
later (``devices.unavailable``), not refused with HTTP 500.
"""

from channels.auth import AuthMiddlewareStack
from django.urls import URLPattern, URLResolver, path

from devices.consumers import DeviceConsumer, LiveViewerConsumer
from devices.unavailable import TryAgainLater
from nvr.origins import ExactOriginValidator
from support.consumers import SupportLiveConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/device/", DeviceConsumer.as_asgi(), name="device-socket"),
    path(
        "ws/live/<uuid:camera_id>/",
        # django-stubs types path() for HTTP views; Channels' URLRouter takes ASGI apps.
        TryAgainLater(ExactOriginValidator(AuthMiddlewareStack(LiveViewerConsumer.as_asgi()))),  # type: ignore[arg-type]
        name="live-view",
    ),
    path(
        "ws/support/<uuid:grant_id>/live/<uuid:camera_id>/",
        TryAgainLater(ExactOriginValidator(AuthMiddlewareStack(SupportLiveConsumer.as_asgi()))),  # type: ignore[arg-type]
        name="support-live-view",
    ),
]
