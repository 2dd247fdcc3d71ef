"""A webhook receiver on 127.0.0.1 for the tests, and small builders."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any


@dataclass
class Receiver:
    url: str
    statuses: list[int]  # answered in order; the last one repeats
    received: list[tuple[dict[str, str], bytes, str]] = field(default_factory=list)  # headers, body, path


@contextmanager
def receiver(statuses: list[int] | None = None, path: str = "/hook") -> Iterator[Receiver]:
    box = Receiver(url="", statuses=list(statuses or [200]))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            box.received.append(({k.lower(): v for k, v in self.headers.items()}, body, self.path))
            status = box.statuses.pop(0) if len(box.statuses) > 1 else box.statuses[0]
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/elsewhere")  # type: ignore[index]
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


class Retry(Exception):
    pass


class FakeTask:
    """Stands in for the bound Celery task: ``retry`` records its countdown and returns an exception."""

    def __init__(self, retries: int = 0) -> None:
        self.request = SimpleNamespace(retries=retries)
        self.countdowns: list[float] = []

    def retry(self, *, countdown: float) -> Retry:
        self.countdowns.append(countdown)
        return Retry()
