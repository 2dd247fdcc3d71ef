"""DRF authentication for cameras: ``Authorization: Bearer <device token>``, and the
base view of camera routes, which runs each handler in the token's household scope."""

from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth.client import client_ip
from accounts.tenancy import account_scope
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
                detail=_("Too many failed device-token attempts from this address: try again later."),
            ) from None
        if principal is None:
            raise AuthenticationFailed(_("Invalid or revoked device token, or the camera is disabled."))
        return principal, raw

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="nvr-device"'


class IsDevice(BasePermission):
    message = gettext_lazy("This endpoint is for cameras: send the camera's token as 'Authorization: Bearer <token>'.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, credentials.DevicePrincipal)


class DeviceAPIView(APIView):
    """A camera's route. The interface opens the scope: once the token has authenticated
    the camera, the handler runs in its household's ``account_scope`` (one transaction),
    so the services it calls only assert it.

    A handler that raises keeps nothing it wrote (as a service's exception means nothing
    happened); one that answers a refusal without raising commits what it did first.
    """

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # The scope ends with the request, however it ends (an ExitStack, not a flag to reset).
        with ExitStack() as self._scope:
            self._scoped = False
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        principal = request.user
        if isinstance(principal, credentials.DevicePrincipal):
            self._scope.enter_context(account_scope(principal.account_id))
            self._scoped = True

    def handle_exception(self, exc: Exception) -> Response:
        self.keep_nothing()
        return super().handle_exception(exc)

    def keep_nothing(self) -> None:
        """Roll the scope's writes back: an exception turned into a response would
        otherwise end the scope's block normally, and commit."""
        if self._scoped:
            transaction.set_rollback(True)

    def principal(self, request: Request) -> credentials.DevicePrincipal:
        principal: credentials.DevicePrincipal = request.user  # type: ignore[assignment]
        return principal


class DeviceTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How the OpenAPI schema describes camera authentication."""

    target_class = "devices.api.authentication.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "The camera's device token (shown once)."}
