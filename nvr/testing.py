"""Test helpers shared by every app: a real daphne server on the test database, and a
check that a page loads nothing from another host."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LiveServer:
    http: str  # http://127.0.0.1:PORT
    ws: str  # ws://127.0.0.1:PORT
    origin: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The test database, as a DATABASE_URL for another process (the app role on PostgreSQL)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    return f"postgresql://{settings['USER']}{password}@{host}/{settings['NAME']}"


@contextmanager
def daphne_server(extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Run ``daphne nvr.asgi:application`` on a free port against the test database.

    Tests that use it must commit their data (``django_db(transaction=True)``).
    """
    port = free_port()
    # The site's exact origin is this server's: the live sockets accept nothing else.
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DATABASE_OWNER_URL": "",
        "NVR_ALLOWED_ORIGINS": origin,
        **(extra_env or {}),
    }
    log = open(Path(os.environ["NVR_DATA_DIR"]) / f"daphne-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "nvr.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(f"daphne did not start: {Path(log.name).read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield LiveServer(http=f"http://127.0.0.1:{port}", ws=f"ws://127.0.0.1:{port}", origin=origin)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class LiveHttpClient:
    """A browser's worth of HTTP against a ``LiveServer``: cookies, CSRF, no redirects followed."""

    def __init__(self, server: LiveServer, cookies: dict[str, str] | None = None) -> None:
        self.server = server
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, data: Mapping[str, str] | None = None) -> int:
        import http.client
        from urllib.parse import urlencode, urlsplit

        if data is not None:
            self._ensure_csrf()
        parts = urlsplit(self.server.http)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode({**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        connection.close()
        return response.status

    def post(self, path: str, data: Mapping[str, str] | None = None) -> int:
        return self.request("POST", path, data or {})

    def _ensure_csrf(self) -> None:
        for page in ("/", "/login/"):  # any page with a form sets the CSRF cookie
            if "csrftoken" not in self.cookies:
                self.request("GET", page)


class _ResourceParser(HTMLParser):
    """Collects the URLs a page makes the browser load (not the links it offers)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.other: list[str] = []  # images, icons, media, frames, inline-style url()s

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        elif tag == "link" and values.get("href"):
            rel = values.get("rel", "").lower().split()
            (self.stylesheets if "stylesheet" in rel else self.other).append(values["href"])
        elif tag in {"img", "source", "iframe", "video", "audio", "embed", "input"} and values.get("src"):
            self.other.append(values["src"])
        for srcset in (values.get("srcset"), values.get("imagesrcset")):
            self.other += [part.split()[0] for part in (srcset or "").split(",") if part.strip()]
        self.other += css_urls(values.get("style", ""))

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style":
            self.other += css_urls(data)


_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


def css_urls(css: str) -> list[str]:
    return [url or imported for url, imported in _CSS_URL.findall(css)]


def is_other_host(url: str) -> bool:
    """True for a URL with a host of its own (``https://x/``, ``//x/``); relative and data: URLs are the page's."""
    parts = urlsplit(url.strip())
    return bool(parts.netloc) and parts.netloc != "testserver"


def external_resources(client: Client, path: str) -> list[str]:
    """Every URL that the page at ``path`` (fetched with Django's test client) would make
    a browser load from another host, following its same-site stylesheets' ``url()``s
    and checking that its same-site scripts and stylesheets are really served."""
    page = client.get(path)
    assert page.status_code == 200, f"{path} answered {page.status_code}"
    parser = _ResourceParser()
    parser.feed(page.content.decode())
    found = [url for url in parser.scripts + parser.stylesheets + parser.other if is_other_host(url)]
    for url in parser.scripts + parser.stylesheets:
        if is_other_host(url) or url.startswith("data:"):
            continue
        response = client.get(urljoin(path, url))
        assert response.status_code == 200, f"{url}, loaded by {path}, answered {response.status_code}"
        if url in parser.stylesheets:
            body = response.getvalue() if response.streaming else response.content
            found += [nested for nested in css_urls(body.decode()) if is_other_host(nested)]
    return found


def wait_in_page(page: Any, expression: str, timeout_ms: int = 10000) -> None:
    """Wait until a JavaScript expression is truthy in a Playwright page.

    Playwright's ``wait_for_function`` compiles its predicate with eval() inside the page,
    which the site's Content-Security-Policy refuses (no 'unsafe-eval'); ``page.evaluate``
    goes through the DevTools protocol, which the policy does not govern."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(50)
