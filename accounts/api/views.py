"""REST API for the signed-in user's active household.

Querysets are built per request in ``get_queryset`` (a class-level queryset
would be evaluated once and shared across requests and households).
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    AccessEventSerializer,
    HouseholdSerializer,
    MemberAddSerializer,
    MemberRoleSerializer,
    MembershipSerializer,
)
from accounts.models import AccessEvent, Membership, Role
from accounts.services import member_add, member_remove, member_set_role


def _actor(request: Request) -> Membership:
    membership: Membership = request.membership
    return membership


def _as_api_error(error: DjangoValidationError) -> serializers.ValidationError:
    detail: Any = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
    return serializers.ValidationError(detail)


class HouseholdView(APIView):
    """The active household and the caller's role in it."""

    def get(self, request: Request) -> Response:
        actor = _actor(request)
        return Response({**HouseholdSerializer(actor.account).data, "role": actor.role})


class CreatedCursor(CursorPagination):
    ordering = "created_at"


class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Membership],
):
    serializer_class = MembershipSerializer
    pagination_class = CreatedCursor
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Membership]:
        return Membership.objects.select_related("user")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            membership = member_add(
                actor=_actor(request), email=data.validated_data["email"], role=Role(data.validated_data["role"])
            )
        except DjangoValidationError as error:
            raise _as_api_error(error) from None
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            member_set_role(actor=_actor(request), membership=target, role=Role(data.validated_data["role"]))
        except DjangoValidationError as error:
            raise _as_api_error(error) from None
        return Response(MembershipSerializer(target).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        try:
            member_remove(actor=_actor(request), membership=target)
        except DjangoValidationError as error:
            raise _as_api_error(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class NewestFirstCursor(CursorPagination):
    ordering = "-created_at"


class AccessEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[AccessEvent]):
    """The household's access history, newest first."""

    serializer_class = AccessEventSerializer
    pagination_class = NewestFirstCursor

    def get_queryset(self) -> QuerySet[AccessEvent]:
        return AccessEvent.objects.all()
