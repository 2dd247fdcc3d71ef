"""The browser origins the site is served from, compared exactly (scheme, host and port).

Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page on
``http://127.0.0.1:6666`` (any other program on the same machine) could open a
viewer's live socket with the viewer's cookies and receive the pictures. Here an
Origin must equal one of ``settings.NVR_ALLOWED_ORIGINS``; anything else, and a
socket without an Origin, is refused before the consumer runs (403 at the handshake).
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from channels.security.websocket import WebsocketDenier
from django.conf import settings

from nvr.env import normalise_origin

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def allowed_origins() -> frozenset[str]:
    """The configured origins, normalised (read on every call so that tests can change them)."""
    return frozenset(filter(None, (normalise_origin(origin) for origin in settings.NVR_ALLOWED_ORIGINS)))


def origin_allowed(headers: list[tuple[bytes, bytes]]) -> bool:
    """True when the request carries exactly one Origin header and it is an allowed origin."""
    origins = [value for name, value in headers if name.lower() == b"origin"]
    if len(origins) != 1:
        return False
    try:
        origin = normalise_origin(origins[0].decode("ascii"))
    except UnicodeDecodeError:
        return False
    return origin is not None and origin in allowed_origins()


class ExactOriginValidator:
    """ASGI middleware for browser websockets: refuses, before accept, any Origin that is
    not exactly one of the site's (a missing one included: browsers always send it)."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError("ExactOriginValidator is for websocket routes only.")
        if origin_allowed(list(scope.get("headers", []))):
            await self.application(scope, receive, send)
            return
        denier: ASGIApp = WebsocketDenier.as_asgi()
        await denier(scope, receive, send)
