"""The API's one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``).

Services raise Django's ``ValidationError`` and ``PermissionDenied``; views let
them through. A ``ValidationError`` becomes a 400 with its messages by field
(``{"field": ["message"]}``), or ``{"detail": ["message"]}`` when it has no
fields; everything else is DRF's own handling (``PermissionDenied`` is a 403).
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

__all__ = ["exception_handler"]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = serializers.ValidationError(detail)
    return drf_exception_handler(exc, context)
