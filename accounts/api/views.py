"""REST API for the signed-in user's active household.

Querysets are built per request in ``get_queryset`` (a class-level queryset
would be evaluated once and shared across requests and households).
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import actor_of
from accounts.api.serializers import (
    AccessEventSerializer,
    ActiveHouseholdSerializer,
    HouseholdSerializer,
    InvitationSerializer,
    InviteSerializer,
    MemberRoleSerializer,
    MembershipSerializer,
)
from accounts.models import AccessEvent, Invitation, Membership, Role
from accounts.services import invitation_create, invitation_revoke, member_remove, member_set_role
from accounts.visibility import access_events_visible_to


class HouseholdView(APIView):
    """The active household and the caller's role in it."""

    @extend_schema(responses=ActiveHouseholdSerializer)
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        return Response({**HouseholdSerializer(actor.account).data, "role": actor.role})


class CreatedCursor(CursorPagination):
    ordering = "created_at"


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Membership],
):
    """Members of the active household. People join by accepting an invitation."""

    serializer_class = MembershipSerializer
    pagination_class = CreatedCursor
    lookup_value_converter = "uuid"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Membership]:
        return Membership.objects.select_related("user")

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_set_role(actor=actor_of(request), membership=target, role=Role(data.validated_data["role"]))
        return Response(MembershipSerializer(target).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        member_remove(actor=actor_of(request), membership=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NewestFirstCursor(CursorPagination):
    ordering = "-created_at"


class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Invitation],
):
    """The active household's pending invitations (owners create and withdraw them)."""

    serializer_class = InvitationSerializer
    pagination_class = NewestFirstCursor
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[Invitation]:
        return Invitation.objects.all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invitation_create(
            actor=actor_of(request), email=data.validated_data["email"], role=Role(data.validated_data["role"])
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invitation_revoke(actor=actor_of(request), invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[AccessEvent]):
    """The household's access history, newest first."""

    serializer_class = AccessEventSerializer
    pagination_class = NewestFirstCursor

    def get_queryset(self) -> QuerySet[AccessEvent]:
        return access_events_visible_to(AccessEvent.objects.all(), viewer=actor_of(self.request))
