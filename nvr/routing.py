"""Websocket routes. Every route here must be known to the isolation matrix
(``nvr/tests/test_isolation_matrix.py``), which fails on any it does not cover.

Browser sockets are checked against the site's exact origins (``NVR_ALLOWED_ORIGINS``,
nvr/origins.py) and session-authenticated; the camera socket takes a device token
instead (cameras send neither cookies nor Origin, and a page cannot set the
Authorization header of a websocket, so no origin check is needed there).
"""

from channels.auth import AuthMiddlewareStack
from django.urls import URLPattern, URLResolver, path

from devices.consumers import DeviceConsumer, LiveViewerConsumer
from nvr.origins import ExactOriginValidator
from support.consumers import SupportLiveConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/device/", DeviceConsumer.as_asgi(), name="device-socket"),
    path(
        "ws/live/<uuid:camera_id>/",
        # django-stubs types path() for HTTP views; Channels' URLRouter takes ASGI apps.
        ExactOriginValidator(AuthMiddlewareStack(LiveViewerConsumer.as_asgi())),  # type: ignore[arg-type]
        name="live-view",
    ),
    path(
        "ws/support/<uuid:grant_id>/live/<uuid:camera_id>/",
        ExactOriginValidator(AuthMiddlewareStack(SupportLiveConsumer.as_asgi())),  # type: ignore[arg-type]
        name="support-live-view",
    ),
]
