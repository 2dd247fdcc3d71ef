"""The site's icon: linked from every page as an SVG, and at /favicon.ico for browsers
and tools that ask there regardless (whitenoise serves static/root/, settings.WHITENOISE_ROOT)."""

from django.test import Client


def test_favicon_ico_answers_with_an_icon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert response.getvalue()[:4] == b"\0\0\1\0"  # an ICO header


def test_the_svg_icon_is_served_and_linked(client: Client):
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200
    assert b"<svg" in response.getvalue()
    page = client.get("/account/login/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in page
