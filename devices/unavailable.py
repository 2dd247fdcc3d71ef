"""Websockets while Redis is unreachable: accept, then close with 1013 (try again later).

Redis serves the channel layer and, in production, the cache that sessions are read
from. Without this, a socket opened while it is down is refused with HTTP 500 (Channels
subscribes before the consumer runs; the session middleware reads the cache), and one
already open ends with 1011. 1013 tells a camera or a browser to reconnect later.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions

logger = logging.getLogger("nvr.live")

CLOSE_TRY_AGAIN = 1013
# What the channel layer and the cache raise while Redis is unreachable.
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionError)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def run_or_try_again_later(
    app: Callable[[dict[str, Any], Receive, Send], Awaitable[None]],
    scope: dict[str, Any],
    receive: Receive,
    send: Send,
    *,
    cleanup: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run the websocket ``app``; if Redis fails under it, ``cleanup`` (best effort), then
    finish the handshake if needed and close with 1013, unless the socket already ended."""
    handshake = ""  # "", "received", "accepted", "closed"
    gone = False

    async def tracked_receive() -> dict[str, Any]:
        nonlocal handshake, gone
        message = await receive()
        if message["type"] == "websocket.connect":
            handshake = "received"
        elif message["type"] == "websocket.disconnect":
            gone = True
        return message

    async def tracked_send(message: dict[str, Any]) -> None:
        nonlocal handshake
        if message["type"] == "websocket.accept":
            handshake = "accepted"
        elif message["type"] == "websocket.close":
            handshake = "closed"
        await send(message)

    try:
        await app(scope, tracked_receive, tracked_send)
    except REDIS_DOWN as error:
        logger.warning("%s: Redis is unreachable (%s); closing with 1013", scope.get("path", "websocket"), error)
        if cleanup is not None:
            try:
                await cleanup()
            except Exception:
                logger.exception("cleanup after a Redis failure failed")
        if gone or handshake == "closed":
            return
        if handshake == "":
            await tracked_receive()  # the handshake request, not read yet
        if handshake == "received":
            await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN, "reason": "Try again later."})


class TryAgainLater:
    """ASGI middleware for a websocket route: ``run_or_try_again_later`` around it (for what
    fails before the consumer runs, such as a session read from the cache)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await run_or_try_again_later(self.app, scope, receive, send)
