"""Confirmation before a destructive action, enforced by the server.

A destructive route (remove a member, withdraw an invitation, delete a camera or a
clip, issue or revoke a token...) answers its GET, and any POST without the
confirmation field, with an "Are you sure?" page whose form posts back to the same
address with that field. Only that second POST acts. The list pages link to the
route instead of posting to it, so one click never destroys anything, with or
without JavaScript, and an old page or a crafted form without the field changes
nothing either.
"""

from dataclasses import dataclass
from types import MappingProxyType

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirmed"
CONFIRM_VALUE = "yes"
# What the confirmation page's form adds to the POST (for tests and scripts that act).
CONFIRMED = MappingProxyType({CONFIRM_FIELD: CONFIRM_VALUE})


def confirmed(request: HttpRequest) -> bool:
    """True only for a POST that comes from the confirmation page's form."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRM_VALUE


@dataclass(frozen=True)
class Confirmation:
    title: str  # "Delete Front door?"
    explanation: str  # what happens, and what cannot be undone
    action: str  # the button: "Delete the camera"
    cancel_url: str  # where "Cancel" goes back to
    danger: bool = True


def confirmation_page(request: HttpRequest, confirmation: Confirmation) -> HttpResponse:
    """The "Are you sure?" page; it posts to the address it was shown at."""
    context = {"confirmation": confirmation, "confirm_field": CONFIRM_FIELD, "confirm_value": CONFIRM_VALUE}
    return render(request, "confirm.html", context)
