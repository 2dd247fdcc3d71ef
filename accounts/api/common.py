"""Helpers every app's API uses."""

from rest_framework.request import Request

from accounts.models import Membership


def actor_of(request: Request) -> Membership:
    """The signed-in person's membership of the active household (set by TenantMiddleware)."""
    membership: Membership = request.membership
    return membership
