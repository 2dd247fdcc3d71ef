"""The site's own 403, 404 and 500 pages, rendered as production renders them (DEBUG off)."""

import socket

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.test import Client
from django.urls import path, reverse

from conftest import World, client_for
from nvr.urls import handler500  # noqa: F401  (this module is a URLconf: the site's error handler)
from nvr.urls import urlpatterns as site_urlpatterns


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def database_gone_view(request: HttpRequest) -> HttpResponse:
    raise OperationalError("server closed the connection unexpectedly")


# This module is the URLconf of the 500 and 503 tests: the site's routes and ones that fail.
urlpatterns = [
    *site_urlpatterns,
    path("broken/", broken_view),
    path("database-gone/", database_gone_view),
    path("api/v1/database-gone/", database_gone_view),
]


@pytest.fixture(autouse=True)
def _production_errors(settings) -> None:
    settings.DEBUG = False


def test_an_unknown_address_is_the_sites_404_without_the_url_list(world: World):
    for client in (Client(), client_for(world.a.viewer)):
        response = client.get("/no/such/page/")
        assert response.status_code == 404
        body = response.content.decode()
        assert 'data-testid="error-404"' in body
        assert 'href="/static/css/site.css"' in body  # the site's look
        assert "URLconf" not in body
        assert "api/v1/" not in body  # Django's debug 404 lists every pattern
        assert "Content-Security-Policy" in response


def test_another_households_camera_is_the_same_404(world: World):
    response = client_for(world.a.owner).get(reverse("devices:camera", args=[world.b.cameras[0].pk]))
    assert response.status_code == 404
    body = response.content.decode()
    assert 'data-testid="error-404"' in body
    assert world.b.cameras[0].name not in body


def test_a_role_too_low_is_the_sites_403_with_the_reason(world: World):
    response = client_for(world.a.viewer).get(reverse("devices:camera-edit", args=[world.a.cameras[0].pk]))
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="error-403"' in body
    assert "Only owners and members manage cameras." in body
    assert 'class="topbar"' in body  # the site's header and navigation


def test_a_failure_is_the_sites_500(world: World, settings):
    settings.ROOT_URLCONF = __name__
    client = client_for(world.a.owner)
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert 'data-testid="error-500"' in body
    assert "a bug" not in body
    assert "Traceback" not in body
    assert response["Cache-Control"] == "private, no-store"


def test_the_500_page_needs_no_request_and_no_context():
    """Django renders it with an empty context, without a request: nothing in it may need one."""
    body = loader.get_template("500.html").render()
    assert 'data-testid="error-500"' in body
    assert 'href="/static/css/site.css"' in body


@pytest.mark.django_db(transaction=True)
def test_the_demo_configuration_serves_static_files_and_a_plain_404_with_debug_off():
    """bin/demo runs daphne with DEBUG=0: static files (the site's and Swagger UI's) are
    still served, without collectstatic, and a 404 is the site's page, not Django's list
    of URL patterns."""
    import urllib.error
    import urllib.request

    from nvr.testing import daphne_server

    def get(url: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own test server)
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    with daphne_server(extra_env={"DEBUG": "0"}) as server:
        status, css = get(f"{server.http}/static/css/site.css")
        assert (status, ".topbar" in css) == (200, True)
        status, _js = get(f"{server.http}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
        assert status == 200
        status, page = get(f"{server.http}/no/such/page/")
        assert status == 404
        assert 'data-testid="error-404"' in page
        assert "URLconf" not in page


def test_a_form_without_its_csrf_token_gets_the_sites_page(world: World):
    client = client_for(world.a.owner)
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("accounts:household-settings"), {"name": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="error-403-csrf"' in body
    assert "<style" not in body  # Django's own page styles itself inline, which the CSP refuses


def test_an_unreachable_database_is_a_503_page_or_json_not_a_500(world: World, settings):
    """nvr/errors.py; the fault itself, a terminated connection, is nvr/tests/test_fault_database.py."""
    settings.ROOT_URLCONF = __name__
    client = client_for(world.a.owner)
    client.raise_request_exception = False
    page = client.get("/database-gone/")
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    body = page.content.decode()
    assert 'data-testid="error-503"' in body
    assert "The site is unavailable for a moment" in body
    assert "server closed the connection" not in body
    assert page["Cache-Control"] == "private, no-store"
    api = client.get("/api/v1/database-gone/")
    assert api.status_code == 503
    assert api.json() == {"detail": "The site is unavailable for a moment. Please try again in a few seconds."}
    assert client.get("/broken/").status_code == 500  # a bug is still a 500


def test_the_503_page_needs_no_request():
    body = loader.get_template("503.html").render({"message": "m"})
    assert 'data-testid="error-503"' in body


def test_an_unreachable_cache_is_a_503_not_a_500(world: World, settings):
    """Redis down: sessions (cached_db) and rate limits cannot be read; signed-in pages and
    the API answer 503 with the site's message, never a 500 or a traceback. Nothing listens
    on the cache's port (bound, then closed, on 127.0.0.1)."""
    signed_in = client_for(world.a.owner)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client = Client(raise_request_exception=False)
    client.cookies = signed_in.cookies
    page = client.get(reverse("devices:grid"))
    assert page.status_code == 503
    assert "The site is unavailable for a moment" in page.content.decode()
    api = client.get("/api/v1/household/")
    assert api.status_code == 503
    assert api["Retry-After"] == "5"
