"""Each person's time zone: the one they chose, else their browser's, else the site's.

Pages show times in it (Django's active time zone, set per request by
``TimeZoneMiddleware``). The browser's zone comes in a cookie that
``static/js/timezone.js`` sets; a name that is not a known IANA zone is ignored.
"""

from collections.abc import Callable
from datetime import tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

BROWSER_COOKIE = "nvr_tz"


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    """The IANA zones this machine knows, sorted (the choices of the profile's field)."""
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(zone_names())


def zone(name: str | None) -> ZoneInfo | None:
    if not name or len(name) > 64 or name not in _known():
        return None
    return ZoneInfo(name)


def zone_of_user(user: object) -> tzinfo:
    """The zone to write times to ``user`` in when no browser asks (emails): theirs, else the site's."""
    return zone(getattr(user, "time_zone", "")) or timezone.get_default_timezone()


def zone_of(request: HttpRequest) -> ZoneInfo | None:
    """The person's chosen zone, else their browser's (None: the site's ``TIME_ZONE``)."""
    user = getattr(request, "user", None)
    chosen = zone(getattr(user, "time_zone", "")) if user is not None and user.is_authenticated else None
    return chosen or zone(request.COOKIES.get(BROWSER_COOKIE))


class TimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = zone_of(request)
        if found is None:
            timezone.deactivate()
        else:
            timezone.activate(found)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
