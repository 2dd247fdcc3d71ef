from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class HasActiveAccount(BasePermission):
    """Signed in and in a household: the tenancy middleware has entered its scope."""

    message = _("Sign in and join a household first.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and getattr(request, "membership", None))
