"""Who is knocking: the client's address, a per-address count of failed attempts, and a
per-person limit on attempts that cost the server work.

The address is the connection's, or, behind ``NVR_TRUSTED_PROXY_COUNT`` proxies of
ours, the entry those proxies appended to ``X-Forwarded-For``. Entries to the left
of theirs are whatever the client sent and are never used: a client that writes its
own ``X-Forwarded-For`` neither changes its address nor resets a counter.
"""

import hashlib
import ipaddress
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _clean(value: str) -> str | None:
    value = value.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def address_of(remote_addr: str | None, forwarded_for: str | None) -> str:
    proxies = settings.NVR_TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
        # Our nearest proxy is REMOTE_ADDR; each of ours appended the address it saw.
        if len(hops) >= proxies:
            found = _clean(hops[-proxies])
            if found:
                return found
    return _clean(remote_addr or "") or "0.0.0.0"  # noqa: S104  # an unknown address is one bucket


def client_ip(request: HttpRequest) -> str:
    return address_of(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))


def throttle_key(address: str) -> str:
    """What counters count by: an IPv4 address, or the first address of an IPv6 address's
    /64 (one customer usually holds a whole /64, and could otherwise use a fresh address
    per attempt). Always an address: django-axes stores it in an IP address column."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def client_throttle_key(request: HttpRequest) -> str:
    """django-axes' address: the client's, by ``throttle_key``."""
    return throttle_key(client_ip(request))


def login_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The address typed at sign-in, normalised, for django-axes' (email, address) lock."""
    value = (credentials or {}).get("email") or (credentials or {}).get("username") or ""
    return str(value).strip().lower()


class WindowCounter:
    """Events per key in a fixed window, in the shared cache. Nothing clears a count
    before its window ends, so neither a success nor a retry resets it."""

    kind = "events"

    def __init__(self, purpose: str, *, limit_setting: str, window_setting: str) -> None:
        self.purpose = purpose
        self.limit_setting = limit_setting
        self.window_setting = window_setting

    def bucket(self, who: str) -> str:
        return who

    def _key(self, who: str) -> str:
        digest = hashlib.sha256(self.bucket(who).encode()).hexdigest()[:32]
        return f"nvr:{self.kind}:{self.purpose}:{digest}"

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.limit_setting))

    def blocked(self, who: str) -> bool:
        return int(cache.get(self._key(who), 0)) >= self.limit

    def add(self, who: str) -> int:
        """Count one event; the count so far in this window, this one included."""
        key = self._key(who)
        window = int(getattr(settings, self.window_setting))
        if cache.add(key, 1, timeout=window):
            return 1
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)
            return 1


class FailureCounter(WindowCounter):
    """Failed attempts per client address in a fixed window, in the shared cache.

    Only failures are counted and nothing ever clears a count, so successes neither
    trip it nor reset it. For device tokens and invitation links (a client that keeps
    failing is told to stop, 429) and for wrong passwords from one address whatever
    the account (``accounts.auth.adapters``).
    """

    kind = "failures"

    def __init__(self, purpose: str, *, limit_setting: str = "NVR_FAILED_ATTEMPTS_PER_ADDRESS") -> None:
        super().__init__(purpose, limit_setting=limit_setting, window_setting="NVR_FAILED_ATTEMPTS_WINDOW_S")

    def bucket(self, who: str) -> str:
        return throttle_key(who)

    def failed(self, address: str) -> None:
        self.add(address)


class PersonLimit(WindowCounter):
    """Attempts per person (their user id) in a fixed window, for actions that cost the
    server something whoever's household they act in (testing a camera connects out)."""

    kind = "attempts"

    def allow(self, user_id: object) -> bool:
        """Count this attempt; False once the person is over the limit. Counting first
        keeps simultaneous attempts from all passing one check."""
        return self.add(str(user_id)) <= self.limit
