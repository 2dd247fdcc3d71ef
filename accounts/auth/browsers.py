"""A notice when someone signs in from a browser that has not signed in as them before.

The browser remembers, in a signed cookie, which people have signed in with it; the
server keeps nothing. A browser it does not know (a new one, or a cleared cookie) gets
the notice once per person, with the time, address and browser of the sign-in.
"""

import hashlib

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from accounts.auth.client import client_ip
from accounts.models import User
from accounts.services import sign_in_notice_send

COOKIE = "nvr_browser"
SALT = "nvr.accounts.known-browser"
MAX_PEOPLE = 10  # people remembered per browser (a shared family tablet)
MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie


def _tag(user: User) -> str:
    return hashlib.sha256(f"{user.pk}".encode()).hexdigest()[:16]


def _known(request: HttpRequest) -> list[str]:
    try:
        value = signing.loads(request.COOKIES.get(COOKIE, ""), salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return []
    return [tag for tag in value if isinstance(tag, str)] if isinstance(value, list) else []


def remember_or_notify(request: HttpRequest, response: HttpResponse, *, user: User, signup: bool) -> None:
    known = _known(request)
    tag = _tag(user)
    if tag not in known and not signup:
        sign_in_notice_send(
            user=user, address=client_ip(request), browser=request.META.get("HTTP_USER_AGENT", "unknown")[:300]
        )
    remembered = [tag, *[other for other in known if other != tag]][:MAX_PEOPLE]
    response.set_cookie(
        COOKIE,
        signing.dumps(remembered, salt=SALT),
        max_age=MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )
