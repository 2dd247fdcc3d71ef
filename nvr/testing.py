"""Test helpers shared by every app: a real daphne server on the test database, and a
check that a page loads nothing from another host."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LiveServer:
    http: str  # http://127.0.0.1:PORT
    ws: str  # ws://127.0.0.1:PORT
    origin: str
    pid: int = 0  # the daphne process
    # http://[::1]:PORT2 when asked for: the same server, reached from a second client address.
    http_other: str = ""


def session_reads() -> int:
    """SQL statements a request spends reading its session: none when sessions come from
    the shared Redis cache (``cached_db``, see nvr/settings.py), else one."""
    from django.conf import settings

    return 0 if settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db" else 1


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
def daphne_server(
    extra_env: dict[str, str] | None = None, *, second_address: bool = False, ingest: bool = False
) -> Iterator[LiveServer]:
    """Run ``daphne nvr.asgi:application`` on a free port against the test database.

    Tests that use it must commit their data (``django_db(transaction=True)``). With
    ``second_address``, the server also listens on [::1] (see ``LiveServer.http_other``);
    with ``ingest``, it reads the pull cameras too, as ``bin/demo`` runs it (``nvr.serve``).
    """
    # The port is bound and listening here, then handed to daphne: nothing else can take it
    # between choosing and binding it, and no other process can answer the readiness check.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = int(listener.getsockname()[1])
    command = [sys.executable, "-m", "nvr.serve" if ingest else "daphne", "--fd", str(listener.fileno())]
    # The site's exact origins are this server's: the live sockets accept nothing else.
    origin = f"http://127.0.0.1:{port}"
    origins = [origin]
    http_other = ""
    if second_address:
        # daphne binds this one itself (an inherited IPv6 socket cannot be named to it), so
        # the port is free-then-bound: the readiness check below uses the first address.
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
            other_port = probe.getsockname()[1]
        command += ["-e", f"tcp6:port={other_port}:interface=\\:\\:1"]
        http_other = f"http://[::1]:{other_port}"
        origins.append(http_other)
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DATABASE_OWNER_URL": "",
        "NVR_ALLOWED_ORIGINS": ",".join(origins),
        "NVR_INGEST_IN_WEB": "1" if ingest else "",
        **(extra_env or {}),
    }
    log = open(Path(os.environ["NVR_DATA_DIR"]) / f"daphne-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [*command, "nvr.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=(listener.fileno(),),
    )
    listener.close()  # daphne holds its own copy
    try:
        _wait_until_it_answers(port, process, log)
        yield LiveServer(
            http=f"http://127.0.0.1:{port}",
            ws=f"ws://127.0.0.1:{port}",
            origin=origin,
            pid=process.pid,
            http_other=http_other,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class RedisServer:
    """A Redis server of a test's own on 127.0.0.1 (never the machine's shared one), which the
    test may kill and start again on the same port: a fault to inject without touching CI's."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", os.environ.get("NVR_DATA_DIR", tempfile.gettempdir())]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                probe.settimeout(1)
                try:
                    probe.connect(("127.0.0.1", self.port))
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
                except OSError:
                    pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, as when a server dies."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _wait_until_it_answers(port: int, process: subprocess.Popen[bytes], log: IO[str]) -> None:
    """An HTTP answer, not a TCP connect: the kernel accepts connections on the listening
    socket before daphne has started."""
    import http.client

    deadline = time.monotonic() + 30
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("HEAD", "/account/login/")
            connection.getresponse()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"daphne did not start: {Path(log.name).read_text()[-2000:]}") from None
            time.sleep(0.1)
        finally:
            connection.close()


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

    def request_json(self, method: str, path: str, data: object) -> int:
        """An API call as the portal's scripts make it: JSON, the CSRF token in a header."""
        import http.client
        import json
        from urllib.parse import urlsplit

        self._ensure_csrf()
        parts = urlsplit(self.server.http)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Content-Type": "application/json",
            "X-CSRFToken": self.cookies["csrftoken"],
        }
        connection.request(method, path, body=json.dumps(data), headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status

    def _ensure_csrf(self) -> None:
        for page in ("/", "/account/login/"):  # any page with a form sets the CSRF cookie
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


def session_cookies(people: dict[str, Any]) -> dict[str, str]:
    """A signed-in session cookie per person, by label. Made before the browser starts:
    Playwright's sync API runs the test in a greenlet whose own database connection
    nobody would close."""
    cookies = {}
    for label, user in people.items():
        client = Client()
        client.force_login(user)
        cookies[label] = client.cookies["sessionid"].value
    return cookies


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download is not used); skips
    when it is not installed, which a run with NVR_REQUIRE_SERVICES=1 turns into a failure."""
    import shutil

    import pytest

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            yield browser
        finally:
            browser.close()


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


# Statements the tenancy layer runs around a scope (set or restore its settings; savepoints
# stand in for a transaction inside a test's).
_TENANCY = re.compile(r"^\s*(SELECT (set_config|current_setting)\(|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO)", re.I)


def statement_kind(sql: str) -> str:
    """What a request's statement is for, as the README's request budget counts them:
    transaction, tenancy_settings, session, user, memberships, or data."""
    words = sql.strip().split(maxsplit=1)
    if words and words[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
        return "transaction"
    if _TENANCY.match(sql):
        return "tenancy_settings"
    if "django_session" in sql:
        return "session"
    if '"accounts_user"' in sql.split("WHERE")[0]:
        return "user"
    if "accounts_membership" in sql:
        return "memberships"
    return "data"
