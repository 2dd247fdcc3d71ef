"""REST API of the household's recordings: a keyset-paged list, a recording, deleting one;
the household's storage and its quota.

Querysets are built per request inside the household's scope (set by the
tenancy middleware), so another household's recording or camera is a 404.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import actor_of
from devices.selectors import camera_get
from recordings.api.pagination import EVENTS_SALT, InvalidCursor, decode_cursor, encode_cursor, page_links
from recordings.api.serializers import (
    EventFilterSerializer,
    EventPageSerializer,
    EventSerializer,
    RecordingFilterSerializer,
    RecordingPageSerializer,
    RecordingSerializer,
    StorageSerializer,
    recordings_json,
)
from recordings.models import Recording
from recordings.retention import GB, max_quota_gb, storage_quota_set, storage_usage_seen_by
from recordings.selectors import Position, keyset_page, motion_events, recordings_filtered, recordings_visible
from recordings.services import recording_delete


class RecordingViewSet(
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Recording],
):
    """The active household's recordings, newest first. Owners and members delete them; viewers read."""

    serializer_class = RecordingSerializer
    lookup_value_converter = "uuid"
    pagination_class = None
    http_method_names = ["get", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        viewer = actor_of(self.request)
        return recordings_visible(viewer=viewer).select_related("camera").prefetch_related("motion_events")

    @extend_schema(parameters=[RecordingFilterSerializer], responses=RecordingPageSerializer)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Filter by camera, start time range, motion and status; follow ``next``/``previous``
        (opaque cursors) for more. ``page_size`` 1..200, default 50."""
        query = RecordingFilterSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        viewer = actor_of(request)
        account_id = viewer.account_id
        direction, position = None, None
        if params.get("cursor"):
            try:
                direction, position = decode_cursor(params["cursor"], account_id=account_id)
            except InvalidCursor as error:
                raise ValidationError({"cursor": [str(error)]}) from None
        # Another household's camera, or one kept from this person: 404.
        camera = camera_get(viewer=viewer, camera_id=params["camera"]) if "camera" in params else None
        queryset = recordings_filtered(
            viewer=viewer,
            camera_id=camera.pk if camera else None,
            start=params.get("start"),
            end=params.get("end"),
            motion=params.get("motion"),
            status=params.get("status"),
        )
        page = keyset_page(
            queryset,
            page_size=params["page_size"],
            after=position if direction == "next" else None,
            before=position if direction == "previous" else None,
            camera=camera,
        )
        older, newer = page_links(items=page.items, has_more=page.has_more, direction=direction, account_id=account_id)
        return Response(
            {
                "results": recordings_json(page.items, motion=page.motion),
                "next": self._link(request, older),
                "previous": self._link(request, newer),
            }
        )

    @staticmethod
    def _link(request: Request, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        query = request.query_params.dict()
        query["cursor"] = cursor
        return request.build_absolute_uri(request.path) + "?" + urlencode(query)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        recording_delete(actor=actor_of(request), recording=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class StorageView(APIView):
    """``GET``: the storage used against the quota (everyone). ``PUT``: owners set the quota,
    up to the server's ceiling (``max_quota_gb``); more is a 400 saying the ceiling."""

    def _body(self, request: Request) -> dict[str, Any]:
        usage = storage_usage_seen_by(actor_of(request))
        return StorageSerializer(
            {
                "used_bytes": usage.used_bytes,
                "quota_bytes": usage.quota_bytes,
                "storage_quota_gb": round(Decimal(usage.quota_bytes) / GB, 1),
                "max_quota_gb": max_quota_gb(),
            }
        ).data

    @extend_schema(responses=StorageSerializer)
    def get(self, request: Request) -> Response:
        return Response(self._body(request))

    @extend_schema(request=StorageSerializer, responses=StorageSerializer)
    def put(self, request: Request) -> Response:
        data = StorageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The service decides who may and how much (403 for non-owners, 400 above the ceiling).
        storage_quota_set(actor=actor_of(request), quota_gb=data.validated_data["storage_quota_gb"])
        return Response(self._body(request))


class EventListView(APIView):
    """Motion events of the ready clips of the cameras you may see, newest first. Filter by
    camera and day (the site's time zone); follow ``next`` (an opaque cursor) for older
    events. ``page_size`` 1..200, default 30. Another household's camera, or one kept from
    you, is a 404; a malformed or foreign cursor is a 400."""

    @extend_schema(operation_id="v1_events_list", parameters=[EventFilterSerializer], responses=EventPageSerializer)
    def get(self, request: Request) -> Response:
        query = EventFilterSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        viewer = actor_of(request)
        position = None
        if params.get("cursor"):
            try:
                direction, position = decode_cursor(params["cursor"], account_id=viewer.account_id, salt=EVENTS_SALT)
            except InvalidCursor as error:
                raise ValidationError({"cursor": [str(error)]}) from None
            if direction != "next":
                raise ValidationError({"cursor": [_("Invalid cursor: use a page's 'next' link as it is.")]})
        camera = camera_get(viewer=viewer, camera_id=params["camera"]) if "camera" in params else None
        page = motion_events(
            viewer=viewer,
            camera_id=camera.pk if camera else None,
            day=params.get("day"),
            cursor=position,
            limit=params["page_size"],
        )
        next_url = None
        if page.has_more:
            last = page.items[-1]
            cursor = encode_cursor(
                Position(last.started_at, last.pk), direction="next", account_id=viewer.account_id, salt=EVENTS_SALT
            )
            next_url = RecordingViewSet._link(request, cursor)
        return Response({"results": EventSerializer(page.items, many=True).data, "next": next_url})
