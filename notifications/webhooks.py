"""Signing and sending one webhook: to the address checked, never the name again.

``X-NVR-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>``
and ``X-NVR-Timestamp`` (Unix seconds). The address is checked with
``devices.addresses.check_address`` at send time (DNS may have changed since it was
saved) and the connection goes to the checked IP, the name travelling in ``Host``
and in TLS's server name. Redirects are never followed (``http.client`` does not).
"""

import hashlib
import hmac
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from devices.addresses import AddressNotAllowed, CheckedAddress, check_address

__all__ = ["AddressNotAllowed", "Outcome", "post", "send", "sign", "webhook_address_check"]

USER_AGENT = "NVR-webhook/1"
WEBHOOK_SCHEMES = ("http", "https")
BAD_FORM = "Use an http:// or https:// address with a host."


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_address_check(url: str) -> CheckedAddress:
    """The address to connect to, or ``AddressNotAllowed`` (its text readable by the household)."""
    if urlsplit(url.strip()).scheme.lower() not in WEBHOOK_SCHEMES:
        raise AddressNotAllowed("scheme", BAD_FORM)
    return check_address(url)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked IP; verifies the certificate for the name (SNI)."""

    def __init__(self, ip: str, port: int, *, server_name: str, timeout: float) -> None:
        super().__init__(ip, port, timeout=timeout, context=ssl.create_default_context())
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no answer (refused, timeout, address not allowed)
    retry: bool
    detail: str


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def post(*, url: str, secret: str, body: bytes, timeout: float, now: float | None = None) -> Outcome:
    """POST ``body`` signed with ``secret``. Never raises for the network's answer."""
    timestamp = str(int(now if now is not None else time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-NVR-Timestamp": timestamp,
        "X-NVR-Signature": sign(secret, timestamp, body),
    }
    return send(url=url, headers=headers, body=body, timeout=timeout)


def send(*, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Outcome:
    """POST ``body`` to ``url`` once its address is checked, connecting to the checked IP.
    Also Web Push's way out (notifications/push.py). Never raises for the network's answer."""
    try:
        checked = webhook_address_check(url)  # one lookup: its answer is what we connect to
    except AddressNotAllowed as refused:
        return Outcome(status=None, retry=False, detail=f"address refused ({refused.reason})")
    parts = urlsplit(url.strip())
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if checked.scheme == "https" else 80
    host_header = checked.host if checked.port == default_port else f"{checked.host}:{checked.port}"
    if ":" in checked.host and not checked.host.startswith("["):
        host_header = f"[{checked.host}]" if checked.port == default_port else f"[{checked.host}]:{checked.port}"
    headers = {"Host": host_header, **headers}
    connection: http.client.HTTPConnection
    if checked.scheme == "https":
        connection = _PinnedHTTPSConnection(checked.ip, checked.port, server_name=checked.host, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(checked.ip, checked.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(4096)  # a little, then close: the answer's body is not ours to keep
        status = response.status
    except (OSError, http.client.HTTPException) as error:
        return Outcome(status=None, retry=True, detail=f"no answer ({type(error).__name__})")
    finally:
        connection.close()
    if 200 <= status < 300:
        return Outcome(status=status, retry=False, detail="delivered")
    # 3xx is not followed; 4xx (but 429) means the receiver refuses it: trying again changes nothing.
    return Outcome(status=status, retry=_retryable(status), detail=f"answered {status}")
