"""Helpers every app's API uses."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.request import Request

from accounts.models import Membership


def actor_of(request: Request) -> Membership:
    """The signed-in person's membership of the active household (set by TenantMiddleware)."""
    membership: Membership = request.membership
    return membership


def as_api_error(error: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a 400 with the same messages, by field where it has fields."""
    detail: Any = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
    return serializers.ValidationError(detail)
