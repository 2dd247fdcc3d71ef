from django.http import HttpRequest

from accounts.models import ROLE_HELP


def tenancy(request: HttpRequest) -> dict[str, object]:
    """The active membership and the household switcher, for every page."""
    return {
        "membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
        "role_help": ROLE_HELP,
    }
