"""Stream addresses fit for logs and status messages.

A pull camera's address carries its credentials (``rtsp://user:password@…``,
``?user=admin&pwd=…``). Only ``redact(url)`` of it, or text passed through
``scrub(text, url)``, may ever reach a log line or a camera's status.
"""

import re
from urllib.parse import unquote

# Query parameters some cameras take credentials in (``/video.cgi?user=admin&pwd=…``).
SENSITIVE_QUERY_KEYS = frozenset(
    {
        "user",
        "username",
        "usr",
        "login",
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "access_token",
        "auth",
        "key",
        "apikey",
        "api_key",
        "sig",
        "signature",
    }
)
REDACTED = "***"


# An ``@`` followed by what can be a host (and port), then the path, query, fragment or end.
_HOST_AFTER_AT = re.compile(r"@(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d*)?(?=[/?#]|$)")


def _split_authority(url: str) -> tuple[str, str, str]:
    """``(scheme://, userinfo, rest)``: everything up to the last ``@`` that a host follows
    counts as userinfo, as people type passwords: with an unencoded ``@``, ``/``, ``?`` or
    ``#``. A query holding ``@`` then hides more than it must, never less."""
    start = url.find("//")
    if start < 0:
        return "", "", url
    prefix, rest = url[: start + 2], url[start + 2 :]
    hosts = list(_HOST_AFTER_AT.finditer(rest))
    if not hosts:
        return prefix, "", rest
    userinfo_end = hosts[-1].start()
    return prefix, rest[:userinfo_end], rest[userinfo_end + 1 :]


def _redact_query(rest: str) -> str:
    head, mark, tail = rest.partition("?")
    if not mark:
        return rest
    query, hash_mark, fragment = tail.partition("#")
    pairs = []
    for pair in re.split(r"([&;])", query):
        key, equals, _value = pair.partition("=")
        if equals and unquote(key).strip().lower() in SENSITIVE_QUERY_KEYS:
            pair = f"{key}={REDACTED}"
        pairs.append(pair)
    return f"{head}?{''.join(pairs)}{hash_mark}{fragment}"


def redact(url: str) -> str:
    """The address fit for a log line: no ``user:password@``, no credential in the query.

    ``redact("rtsp://admin:secret@cam.local:554/s") == "rtsp://cam.local:554/s"``
    """
    prefix, _userinfo, rest = _split_authority(url.strip())
    return prefix + _redact_query(rest)


def _secrets(url: str) -> list[str]:
    """The parts of ``url`` that must never be shown, longest first (raw and percent-decoded)."""
    _prefix, userinfo, rest = _split_authority(url.strip())
    found: set[str] = set()
    if userinfo:
        found |= {userinfo, unquote(userinfo)}
        _user, colon, password = userinfo.partition(":")
        if colon and password:
            found |= {password, unquote(password)}
    _head, _mark, query = rest.partition("?")
    for pair in re.split(r"[&;]", query.partition("#")[0]):
        key, equals, value = pair.partition("=")
        if equals and value and unquote(key).strip().lower() in SENSITIVE_QUERY_KEYS:
            found |= {value, unquote(value)}
    return sorted((s for s in found if s), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (an error message, a traceback) with ``url`` redacted and its secrets masked."""
    text = text.replace(url, redact(url))
    for secret in _secrets(url):
        text = text.replace(secret, REDACTED)
    return text
