"""Websocket routes. Every route here must be known to the isolation matrix
(``nvr/tests/test_isolation_matrix.py``), which fails on any it does not cover.

Browser sockets are origin-checked and session-authenticated; the camera
socket takes a device token instead (cameras send neither cookies nor Origin).
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import URLPattern, URLResolver, path

from devices.consumers import DeviceConsumer, LiveViewerConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/device/", DeviceConsumer.as_asgi(), name="device-socket"),
    path(
        "ws/live/<uuid:camera_id>/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(LiveViewerConsumer.as_asgi())),
        name="live-view",
    ),
]
