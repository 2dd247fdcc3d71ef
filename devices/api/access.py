"""REST API: which cameras a member or viewer sees. Owners read and set it; others get 403.

The member is looked up in the active household's scope first: another
household's member is a 404 for every role.
"""

import uuid

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import actor_of
from accounts.models import Membership
from accounts.selectors import membership_get
from devices.selectors import camera_access_of, cameras_list
from devices.services import camera_access_set


class CameraAccessSerializer(serializers.Serializer[None]):
    membership = serializers.UUIDField(read_only=True)
    limited = serializers.BooleanField(help_text="false: every camera, including cameras added later.")
    cameras = serializers.ListField(child=serializers.UUIDField(), required=False, default=list, max_length=1000)


def _body(membership: Membership) -> dict[str, object]:
    limited, granted = camera_access_of(membership=membership)
    return {"membership": str(membership.pk), "limited": limited, "cameras": sorted(str(c) for c in granted)}


class CameraAccessView(APIView):
    """GET: whether the member is limited to some cameras, and which. PUT: set both
    (taking a camera away closes their live view of it)."""

    def _target(self, request: Request, membership_id: uuid.UUID) -> tuple[Membership, Membership]:
        actor = actor_of(request)
        target = membership_get(membership_id=membership_id)
        if not actor.is_owner:
            raise PermissionDenied(_("Only an owner chooses which cameras someone sees."))
        return actor, target

    @extend_schema(responses=CameraAccessSerializer)
    def get(self, request: Request, membership_id: uuid.UUID) -> Response:
        _actor, target = self._target(request, membership_id)
        return Response(_body(target))

    @extend_schema(request=CameraAccessSerializer, responses=CameraAccessSerializer)
    def put(self, request: Request, membership_id: uuid.UUID) -> Response:
        actor, target = self._target(request, membership_id)
        data = CameraAccessSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        known = {camera.pk: camera for camera in cameras_list(viewer=actor)}
        wanted = data.validated_data["cameras"]
        unknown = [str(camera_id) for camera_id in wanted if camera_id not in known]
        if unknown:  # a missing camera and another household's answer alike
            refusal = _("No such camera: %(ids)s.") % {"ids": ", ".join(unknown)}
            raise serializers.ValidationError({"cameras": [refusal]})
        camera_access_set(
            actor=actor,
            membership=target,
            limited=data.validated_data["limited"],
            cameras=[known[camera_id] for camera_id in wanted],
        )
        return Response(_body(target))
