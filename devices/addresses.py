"""Which camera addresses the server may connect to.

A pull camera's address is chosen by a household, and the server connects to it
from inside its own network: without a check, ``rtsp://127.0.0.1:6379/`` or
``http://169.254.169.254/`` would make the reader (and the camera's status) a probe
of the server's network. ``check_address`` allows only rtsp, rtsps, http and https,
resolves the host and refuses the address when ANY answer is not a public unicast
address (loopback, private, link-local, shared, reserved, multicast, unspecified,
documentation...), whatever its spelling: the resolver turns ``127.1``,
``2130706433``, ``0x7f.1`` or ``0`` into the address it would connect to, and
IPv4 embedded in IPv6 (mapped, 6to4, NAT64) is checked as IPv4 too.

``NVR_CAMERA_ALLOWED_NETWORKS`` (CIDRs) lets an operator permit chosen addresses
(the demo's and the tests' cameras on 127.0.0.1). Cloud metadata addresses stay
refused even then. The caller connects to ``CheckedAddress.connect_url``, whose
host is the address checked, so the name is never resolved a second time.

Every refusal says the same thing (``NOT_ALLOWED``), whether the name did not
resolve or resolved to a refused address, so that saving an address tells a
household nothing about the server's network.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., Sequence[tuple[Any, ...]]]

ALLOWED_SCHEMES = ("rtsp", "rtsps", "http", "https")
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
NOT_ALLOWED = gettext_noop("This address is not allowed.")
BAD_FORM = gettext_noop("Use an rtsp://, rtsps://, http:// or https:// address with a host.")

# Cloud instance metadata and platform services: refused even inside an allowlisted network.
METADATA = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2/32",  # AWS ECS task metadata
        "fd00:ec2::254/128",  # AWS over IPv6
        "100.100.100.200/32",  # Alibaba Cloud
        "192.0.0.192/32",  # Oracle Cloud
        "168.63.129.16/32",  # Azure wire server (a public address)
    )
)
# IPv6 prefixes that carry an IPv4 address a gateway would connect to.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class AddressNotAllowed(ValueError):
    """The address may not be read. ``str()`` is what a household may see; ``reason`` is for
    the operator's log only (it says whether the name resolved)."""

    def __init__(self, reason: str, message: str = NOT_ALLOWED) -> None:
        super().__init__(message)
        self.reason = reason

    def __str__(self) -> str:
        # Kept in English (the log, the tests); said in the reader's language.
        return gettext(super().__str__())


@dataclass(frozen=True)
class CheckedAddress:
    scheme: str
    host: str  # as written: the name for TLS and the Host header
    ip: str  # the address checked, which the reader connects to
    port: int
    connect_url: str = field(repr=False)  # the address with its host replaced by ``ip``: holds the credentials


def allowed_networks() -> tuple[IPNetwork, ...]:
    """``NVR_CAMERA_ALLOWED_NETWORKS`` (nvr/settings.py), parsed."""
    return tuple(ipaddress.ip_network(net, strict=False) for net in settings.NVR_CAMERA_ALLOWED_NETWORKS)


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """``ip`` and every IPv4 address a translator or tunnel would reach through it."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.append(ip.teredo[1])
        if any(ip in net for net in NAT64):
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _public(ip: IPAddress) -> bool:
    # is_global is False for every special-purpose range (private, shared 100.64/10,
    # loopback, link-local, documentation, benchmarking...); some multicast is "global".
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


def address_refusal(ip: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why the reader may not connect to ``ip`` (for the log), or None when it may."""
    ip = _unmapped(ip)
    candidates = _embedded(ip)
    if any(candidate in net for candidate in candidates for net in METADATA):
        return "metadata"
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    if not all(_public(candidate) for candidate in candidates):
        return "not public"
    return None


def _split(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, userinfo) of a well-formed address, or AddressNotAllowed."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url) or "\\" in url:
        raise AddressNotAllowed("syntax", BAD_FORM)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressNotAllowed("syntax", BAD_FORM) from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in ALLOWED_SCHEMES or not host or "%" in host:
        raise AddressNotAllowed("syntax", BAD_FORM)
    userinfo, at, _hostport = parts.netloc.rpartition("@")
    return scheme, host, port or DEFAULT_PORTS[scheme], userinfo if at else ""


def _resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        answers = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise AddressNotAllowed("does not resolve") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonical, sockaddr in answers:
        try:
            addresses.append(ipaddress.ip_address(str(sockaddr[0]).partition("%")[0]))
        except ValueError:
            raise AddressNotAllowed("unreadable answer") from None
    if not addresses:
        raise AddressNotAllowed("does not resolve")
    return addresses


def check_address(
    url: str, *, allowed: Iterable[IPNetwork] | None = None, resolver: Resolver | None = None
) -> CheckedAddress:
    """The address the reader may connect to for ``url``, or ``AddressNotAllowed``.

    ``allowed`` defaults to ``NVR_CAMERA_ALLOWED_NETWORKS``; ``resolver`` to
    ``socket.getaddrinfo`` (tests pass a fake one for names).
    """
    url = url.strip()
    scheme, host, port, userinfo = _split(url)
    networks = tuple(allowed_networks() if allowed is None else allowed)
    addresses = _resolve(host, port, resolver or socket.getaddrinfo)
    for ip in addresses:
        reason = address_refusal(ip, networks)
        if reason is not None:
            raise AddressNotAllowed(reason)
    ip = _unmapped(addresses[0])
    literal = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    parts = urlsplit(url)
    netloc = f"{userinfo}@{literal}:{port}" if userinfo else f"{literal}:{port}"
    connect_url = urlunsplit((scheme, netloc, parts.path, parts.query, ""))
    # The URL is parsed again by FFmpeg: it must find the same host there.
    if urlsplit(connect_url).hostname != ip.compressed:
        raise AddressNotAllowed("syntax", BAD_FORM)
    return CheckedAddress(scheme=scheme, host=host, ip=ip.compressed, port=port, connect_url=connect_url)
