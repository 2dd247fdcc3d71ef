"""Every main page: a strict Content-Security-Policy, no inline script, style or event
handler in its HTML, and nothing loaded from another host."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from conftest import World, client_for, main_pages
from nvr.testing import external_resources

SIGNED_OUT_PAGES = [reverse("account_login"), reverse("account_signup")]
# Scripts that a browser does not run: data blocks.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class InlineCode(HTMLParser):
    """What a strict CSP would refuse to run: inline scripts, on*= handlers, style="" and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src") and (values.get("type") or "") not in DATA_SCRIPT_TYPES:
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_inline_code_check_finds_what_it_must():
    """The check itself: each kind of inline code is reported, files and data are not."""
    html = (
        '<script>alert(1)</script><script src="/static/x.js"></script>'
        '<script type="application/json">{"a": 1}</script><button onclick="x()">b</button>'
        '<div style="color: red"></div><style>p {}</style><a href="javascript:x()">x</a>'
    )
    assert len(inline_code(html)) == 5


@pytest.mark.usefixtures("world_with_clips")
def test_every_main_page_has_a_strict_policy_and_no_inline_code(world: World):
    owner = client_for(world.a.owner)
    pages = {name: (owner, path) for name, path in main_pages(world.a).items()}
    pages |= {f"signed out {path}": (Client(), path) for path in SIGNED_OUT_PAGES}
    for name, (client, path) in pages.items():
        response = client.get(path)
        assert response.status_code == 200, f"{name}: {path} answered {response.status_code}"
        csp = policy(response)
        where = f"{name} ({path})"
        assert csp["default-src"] == ["'self'"], where
        assert csp["script-src"] == ["'self'"], where  # no 'unsafe-inline', no eval, no other host
        assert csp["object-src"] == ["'none'"], where
        assert csp["base-uri"] == ["'none'"], where
        assert csp["frame-ancestors"] == ["'none'"], where
        assert csp["form-action"] == ["'self'"], where
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], where
        assert csp["style-src"] == ["'self'"], where
        if name == "api docs":  # Swagger UI draws its icons as data: SVGs
            assert csp["img-src"] == ["'self'", "blob:", "data:"], where
        else:
            assert csp["img-src"] == ["'self'", "blob:"], where  # live frames are blob: URLs
        assert inline_code(response.content.decode()) == [], where


def test_the_live_socket_is_allowed_by_its_exact_origin(world: World, settings):
    """connect-src names the site's websocket origins, not any ws: host."""
    connect = policy(client_for(world.a.viewer).get(reverse("devices:grid")))["connect-src"]
    assert connect[0] == "'self'"
    assert connect[1:] == [origin.replace("http", "ws", 1) for origin in settings.NVR_ALLOWED_ORIGINS]
    assert "ws:" not in connect
    assert "wss:" not in connect


@pytest.mark.usefixtures("world_with_clips")
def test_confirmation_and_error_pages_have_no_inline_code(world: World):
    owner = client_for(world.a.owner)
    for path in (
        reverse("accounts:member-remove", args=[world.a.memberships["viewer"].pk]),
        reverse("devices:camera-token-revoke", args=[world.a.cameras[0].pk]),
        reverse("recordings:clip-delete", args=[world.a.recordings[0].pk]),
    ):
        response = owner.get(path)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path
    refused = client_for(world.a.viewer).get(reverse("devices:camera-edit", args=[world.a.cameras[0].pk]))
    assert refused.status_code == 403
    assert inline_code(refused.content.decode()) == []


@pytest.mark.usefixtures("world_with_clips")
def test_no_main_page_loads_anything_from_another_host(world: World):
    owner = client_for(world.a.owner)
    for name, path in main_pages(world.a).items():
        assert external_resources(owner, path) == [], name
    for path in SIGNED_OUT_PAGES:
        assert external_resources(Client(), path) == [], path
