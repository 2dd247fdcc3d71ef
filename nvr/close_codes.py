"""Let daphne send the registered close codes for "restarting" and "try again later".

daphne hands a consumer's close code to autobahn's ``sendClose``, which accepts only 1000
and 3000-4999 and fails the socket with 1011 otherwise; the IANA registry (RFC 6455, 7.4)
also gives servers 1012-1014. Those go out through autobahn's lower-level ``sendCloseFrame``,
as daphne itself sends 1011.
"""

from typing import Any

SERVER_CODES = {1012, 1013, 1014}


def allow_server_close_codes() -> None:
    """Patch daphne's websocket protocol once (idempotent); called from ``nvr.asgi``."""
    from daphne.ws_protocol import WebSocketProtocol

    original = WebSocketProtocol.serverClose
    if getattr(original, "nvr_patched", False):
        return

    def server_close(self: Any, code: int | None = None) -> None:
        if code in SERVER_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    server_close.nvr_patched = True  # type: ignore[attr-defined]
    WebSocketProtocol.serverClose = server_close
