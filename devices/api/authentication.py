"""DRF authentication for cameras: ``Authorization: Bearer <device token>``."""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import BasePermission

from accounts.auth.client import client_ip
from devices import credentials


class DeviceTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[credentials.DevicePrincipal, str] | None:
        raw = credentials.bearer(request.META.get("HTTP_AUTHORIZATION"))
        if raw is None:
            return None
        try:
            principal = credentials.authenticate(raw, address=client_ip(request._request))
        except credentials.TooManyFailures:
            raise Throttled(
                wait=settings.NVR_FAILED_ATTEMPTS_WINDOW_S,
                detail="Too many failed device-token attempts from this address: try again later.",
            ) from None
        if principal is None:
            raise AuthenticationFailed("Invalid or revoked device token, or the camera is disabled.")
        return principal, raw

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="nvr-device"'


class IsDevice(BasePermission):
    message = "This endpoint is for cameras: send the camera's token as 'Authorization: Bearer <token>'."

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, credentials.DevicePrincipal)


class DeviceTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema describes camera authentication."""

    target_class = "devices.api.authentication.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "The camera's device token (shown once)."}
