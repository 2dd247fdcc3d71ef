"""Device tokens: ``nvr1.<household id>.<token id>.<secret>``.

The secret is 256 random bits; only its SHA-256 is stored, compared in constant
time. The household id in the token only says which household's scope to look
the token up in: a token naming the wrong household is simply not found there.
The camera and the household a request acts for always come from the stored
token row, never from anything else the camera sends.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from django.utils import timezone

from accounts.auth.client import FailureCounter
from accounts.tenancy import account_scope
from devices.models import Camera, DeviceToken

PREFIX = "nvr1"


@dataclass(frozen=True)
class DevicePrincipal:
    """An authenticated camera."""

    account_id: uuid.UUID
    camera_id: uuid.UUID
    token_id: uuid.UUID
    camera_name: str
    is_authenticated: bool = True


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(*, camera: Camera) -> str:
    """Create a token row for ``camera`` (inside its household's scope); return the token once."""
    secret = secrets.token_urlsafe(32)
    token = DeviceToken.objects.create(account_id=camera.account_id, camera=camera, secret_hash=_hash(secret))
    return f"{PREFIX}.{camera.account_id.hex}.{token.id.hex}.{secret}"


def parse(raw: str) -> tuple[uuid.UUID, uuid.UUID, str] | None:
    parts = raw.strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[3]:
        return None
    try:
        return uuid.UUID(hex=parts[1]), uuid.UUID(hex=parts[2]), parts[3]
    except ValueError:
        return None


# Failed token attempts per client address: a client that keeps failing is refused
# (429 on the API, the handshake on the socket) until the window passes.
FAILURES = FailureCounter("device-token")


class TooManyFailures(Exception):
    """This address failed too often lately; not even a right token is checked."""


def authenticate(raw: str | None, *, address: str) -> DevicePrincipal | None:
    """The camera a token belongs to, if the token is genuine, not revoked, and its camera enabled.

    Raises ``TooManyFailures`` while ``address`` is over its failed-attempt limit."""
    if FAILURES.blocked(address):
        raise TooManyFailures
    principal = _check(raw)
    if principal is None:
        FAILURES.failed(address)
    return principal


def _check(raw: str | None) -> DevicePrincipal | None:
    parsed = parse(raw or "")
    if parsed is None:
        return None
    account_id, token_id, secret = parsed
    with account_scope(account_id):
        token = DeviceToken.objects.select_related("camera").filter(pk=token_id, revoked_at__isnull=True).first()
        # Compare even when there is no row, so timing says nothing about which part was wrong.
        expected = token.secret_hash if token else "0" * 64
        if not hmac.compare_digest(expected, _hash(secret)) or token is None or not token.camera.enabled:
            return None
        DeviceToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return DevicePrincipal(
            account_id=token.account_id, camera_id=token.camera_id, token_id=token.pk, camera_name=token.camera.name
        )


def still_valid(principal: DevicePrincipal) -> bool:
    """The token is not revoked and its camera still exists, enabled, in the same household."""
    with account_scope(principal.account_id):
        return DeviceToken.objects.filter(
            pk=principal.token_id, revoked_at__isnull=True, camera_id=principal.camera_id, camera__enabled=True
        ).exists()


def bearer(header: str | None) -> str | None:
    """The token from an ``Authorization: Bearer <token>`` header value."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None
