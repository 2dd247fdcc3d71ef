"""The site's origins: parsed exactly, defaulting from SITE_URL, shared with CSRF."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from nvr.env import env_origins, normalise_origin
from nvr.origins import origin_allowed
from nvr.tests.test_settings import manage


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:8000", "http://localhost:8000"),
        ("HTTP://LocalHost:8000/", "http://localhost:8000"),
        ("https://nvr.example.org:443", "https://nvr.example.org"),
        ("http://nvr.example.org:80", "http://nvr.example.org"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", None),
        ("ftp://nvr.example.org", None),
        ("nvr.example.org", None),
        ("http://nvr.example.org/path", None),
        ("http://user:pw@nvr.example.org", None),
        ("http://nvr.example.org:99999", None),
    ],
)
def test_origins_are_normalised_as_browsers_send_them(value, expected):
    assert normalise_origin(value) == expected


def test_a_misconfigured_origin_stops_the_process(monkeypatch):
    monkeypatch.setenv("NVR_ALLOWED_ORIGINS", "https://nvr.example.org, nvr.example.org")
    with pytest.raises(ImproperlyConfigured, match="is not an origin"):
        env_origins("NVR_ALLOWED_ORIGINS", [])


def test_the_origin_check_is_exact(settings):
    settings.NVR_ALLOWED_ORIGINS = ["https://nvr.example.org"]
    assert origin_allowed([(b"origin", b"https://nvr.example.org")])
    assert origin_allowed([(b"Origin", b"https://nvr.example.org:443")])
    for wrong in (b"http://nvr.example.org", b"https://nvr.example.org:8443", b"https://evil.example.org", b"null"):
        assert not origin_allowed([(b"origin", wrong)]), wrong
    assert not origin_allowed([])
    assert not origin_allowed([(b"origin", b"https://nvr.example.org"), (b"origin", b"https://evil.example.org")])
    assert not origin_allowed([(b"origin", "https://nvr.éxample.org".encode())])


def test_defaults_follow_the_site_url_and_csrf_trusts_the_same_origins():
    script = (
        "from django.conf import settings; print(settings.NVR_ALLOWED_ORIGINS); print(settings.CSRF_TRUSTED_ORIGINS)"
    )
    result = manage("shell", "--no-imports", "-c", script, SITE_URL="http://localhost:9000")
    assert result.stdout.splitlines() == [
        "['http://localhost:9000', 'http://127.0.0.1:9000']",
        "['http://localhost:9000', 'http://127.0.0.1:9000']",
    ], result.stderr
    explicit = manage("shell", "--no-imports", "-c", script, NVR_ALLOWED_ORIGINS="https://nvr.example.org")
    assert explicit.stdout.splitlines() == ["['https://nvr.example.org']", "['https://nvr.example.org']"]
