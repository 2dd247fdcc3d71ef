"""The request as the tenancy middleware leaves it, for type-checked views."""

from django.http import HttpRequest

from accounts.models import Membership, User


class TenantRequest(HttpRequest):
    """``membership`` is the active household's membership of the signed-in user
    (None when signed out or in no household); ``memberships`` lists all of them."""

    user: User
    membership: Membership | None
    memberships: list[Membership]
