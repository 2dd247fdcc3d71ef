"""Web Push: the site's VAPID keys, and one encrypted message to one browser.

pywebpush encrypts (aes128gcm, RFC 8291) and py-vapid signs the ``Authorization`` header
(RFC 8292); the message then leaves through ``webhooks.send``, which checks the push
service's address and connects to the IP it checked, like a webhook (pywebpush's own
``requests`` call would resolve the name again, unchecked).
"""

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPusher

from notifications.webhooks import Outcome, send

# Push services answer these for a subscription that no longer exists: forget it.
GONE = (404, 410)


class PushNotConfigured(RuntimeError):
    """No VAPID key: neither NVR_VAPID_PRIVATE_KEY nor the key file (``manage.py vapid_keys``)."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _key_file() -> Path:
    return Path(settings.NVR_VAPID_KEY_FILE)


def vapid_keys_ensure() -> tuple[str, bool]:
    """Where the key comes from ("environment" or the file's path) and whether it was just made.
    Idempotent: an existing file is kept (browsers' subscriptions are bound to its public key)."""
    if settings.NVR_VAPID_PRIVATE_KEY:
        return "environment", False
    path = _key_file()
    if path.exists():
        return str(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    vapid = Vapid()
    vapid.generate_keys()
    # Created 0600 from the start: the private key is never readable by others, even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(vapid.private_pem())
    return str(path), True


def vapid() -> Vapid:
    """The site's signing key, or ``PushNotConfigured``."""
    pem = settings.NVR_VAPID_PRIVATE_KEY
    if not pem:
        try:
            pem = _key_file().read_text()
        except FileNotFoundError:
            raise PushNotConfigured("No VAPID key: run `manage.py vapid_keys` or set NVR_VAPID_PRIVATE_KEY.") from None
    return Vapid.from_pem(pem.strip().encode())


def public_key() -> str | None:
    """The application server key browsers subscribe with (base64url, uncompressed P-256 point),
    or None when push is not set up (the page then offers no button)."""
    try:
        key = vapid().public_key
    except PushNotConfigured:
        return None
    return _b64url(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str  # the browser's P-256 public key, base64url
    auth: str  # the browser's 16-byte auth secret, base64url

    def as_json(self) -> str:
        return json.dumps({"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": self.auth})

    @classmethod
    def from_json(cls, text: str) -> "Subscription":
        data = json.loads(text)
        return cls(endpoint=data["endpoint"], p256dh=data["p256dh"], auth=data["auth"])


def keys_valid(*, p256dh: str, auth: str) -> bool:
    """Whether the browser's keys have the right shape (a P-256 point, a 16-byte secret)."""
    try:
        point = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
        secret = base64.urlsafe_b64decode(auth + "=" * (-len(auth) % 4))
    except ValueError:
        return False
    return len(point) == 65 and point[0] == 4 and len(secret) == 16


def send_push(subscription: Subscription, payload: dict[str, str], *, timeout: float, ttl: int) -> Outcome:
    """Encrypt ``payload`` (JSON) for the browser, sign for its push service, POST it."""
    pusher = WebPusher(
        {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    )
    body = pusher.encode(json.dumps(payload, separators=(",", ":")).encode(), "aes128gcm")["body"]
    parts = urlsplit(subscription.endpoint)
    claims = {"sub": settings.NVR_VAPID_SUBJECT, "aud": f"{parts.scheme}://{parts.netloc}"}
    headers = {
        **vapid().sign(claims),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(ttl),
        "Urgency": "high",  # motion at home: worth waking a phone for
    }
    return send(url=subscription.endpoint, headers=headers, body=body, timeout=timeout)
