"""The shared test helpers must be able to fail: they are checked on pages made to fail them."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from nvr.testing import css_urls, external_resources, is_other_host
from nvr.urls import urlpatterns as site_urlpatterns

PAGES = {
    "clean": '<link rel="stylesheet" href="/static/css/site.css"><script src="/static/js/live.js"></script>'
    '<img src="data:image/png;base64,iVBOR"><a href="https://example.org/">a link is not a load</a>'
    "<p>csrf: trqrqcrs3scdn1udxyvujlpuam51</p>",
    "script": '<script src="https://cdn.example.net/swagger-ui-bundle.js"></script>',
    "protocol-relative": '<link rel="icon" href="//cdn.example.net/favicon.ico">',
    "image": '<img srcset="/a.png 1x, https://img.example.net/b.png 2x">',
    "inline-css": "<style>body { background: url('https://cdn.example.net/bg.png') }</style>",
    "style-attribute": '<div style="background-image:url(https://cdn.example.net/x.png)"></div>',
    "linked-css": '<link rel="stylesheet" href="/page/sheet/">',
    "sheet": "body { background: url(https://cdn.example.net/bg.png) }",
    "missing-script": '<script src="/static/js/nowhere.js"></script>',
}


def page(request: HttpRequest, name: str) -> HttpResponse:
    return HttpResponse(PAGES[name])


# The site's routes too: its 404 page (a missing script's answer) links to them.
urlpatterns = [path("page/<str:name>/", page), *site_urlpatterns]


@pytest.fixture
def client(settings) -> Client:
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]
    return Client()


def test_it_passes_a_page_that_loads_only_from_the_site(client):
    assert external_resources(client, "/page/clean/") == []


OFFENDERS = ["script", "protocol-relative", "image", "inline-css", "style-attribute", "linked-css"]


@pytest.mark.parametrize("name", OFFENDERS)
def test_it_reports_what_another_host_would_serve(client, name):
    assert len(external_resources(client, f"/page/{name}/")) == 1


def test_it_fails_on_a_same_site_script_that_is_not_served(client):
    with pytest.raises(AssertionError, match=r"nowhere\.js"):
        external_resources(client, "/page/missing-script/")


def test_css_urls_and_hosts():
    assert css_urls("a{b:url( 'x.png' )} @import \"y.css\";") == ["x.png", "y.css"]
    assert is_other_host("//cdn.example.net/a.js")
    assert not is_other_host("/static/a.js")
    assert not is_other_host("data:image/png;base64,AAAA")


def test_the_embedded_pass_names_only_modules_that_exist():
    """CI's second pass selects modules by path: a renamed module would silently leave it."""
    from nvr.pytest_plugin import EMBEDDED_PASS
    from nvr.testing import ROOT

    assert [path for path in sorted(EMBEDDED_PASS) if not (ROOT / path).is_file()] == []
