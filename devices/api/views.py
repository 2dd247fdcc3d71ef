"""REST API for cameras: people manage them, cameras report with their token.

Querysets are built per request (``get_queryset``) inside the household's scope.
"""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.common import actor_of
from devices.api.authentication import DeviceAPIView
from devices.api.serializers import (
    CameraCreateSerializer,
    CameraSerializer,
    CameraUpdateSerializer,
    HeartbeatSerializer,
    TokenSerializer,
)
from devices.extensions import settings_related
from devices.models import Camera, CameraKind
from devices.selectors import cameras_visible
from devices.services import camera_create, camera_delete, camera_update, device_heartbeat, token_revoke, token_rotate


class CameraViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Camera],
):
    """The active household's cameras. Owners and members manage them; viewers read."""

    serializer_class = CameraSerializer
    lookup_value_converter = "uuid"
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Camera]:
        # Only the cameras this person may see: another is a 404 and absent from the list.
        # With the other apps' settings rows (devices.extensions): no query per camera.
        return cameras_visible(viewer=actor_of(self.request)).select_related(*settings_related()).order_by("name")

    @extend_schema(request=CameraCreateSerializer, responses={201: CameraSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CameraCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        camera, token = camera_create(
            actor=actor_of(request),
            name=data.validated_data["name"],
            kind=CameraKind(data.validated_data["kind"]),
            source_url=data.validated_data.get("source_url", ""),
        )
        body = dict(CameraSerializer(camera).data)
        if token:
            body["token"] = token  # once
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=CameraUpdateSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        camera = self.get_object()
        data = CameraUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        own = {
            name: data.validated_data.pop(name)
            for name in ("name", "enabled", "source_url")
            if name in data.validated_data
        }
        camera_update(actor=actor_of(request), camera=camera, settings=data.validated_data, **own)
        return Response(CameraSerializer(camera).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        camera_delete(actor=actor_of(request), camera=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["POST"], request=None, responses={201: TokenSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["post", "delete"], url_path="token")
    def token(self, request: Request, pk: Any = None) -> Response:
        """POST: revoke the camera's token and issue a new one (shown once). DELETE: revoke it."""
        camera = self.get_object()
        if request.method == "DELETE":
            token_revoke(actor=actor_of(request), camera=camera)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"token": token_rotate(actor=actor_of(request), camera=camera)}, status=201)


class DeviceHeartbeatView(DeviceAPIView):
    """A camera says it is alive. The camera and household come from its token only;
    anything in the body is ignored."""

    @extend_schema(request=None, responses={200: HeartbeatSerializer})
    def post(self, request: Request) -> Response:
        camera = device_heartbeat(principal=self.principal(request))
        return Response({"camera": CameraSerializer(camera).data, "server_time": timezone.now()})
