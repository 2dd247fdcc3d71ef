"""Email verification tokens: signed, bound to the user and the address, short-lived."""

from datetime import timedelta

from django.core import signing

from accounts.models import User

SALT = "nvr.accounts.verify-email"
MAX_AGE = timedelta(days=3)


def make_token(user: User) -> str:
    return signing.dumps({"u": str(user.pk), "e": user.email}, salt=SALT, compress=True)


def user_for_token(token: str) -> User | None:
    """The active user the token was made for, if it is genuine, fresh, and their
    address has not changed since; otherwise None."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.email != data.get("e"):
        return None
    return user
