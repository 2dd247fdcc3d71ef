"""Websocket routes. Every route here must be known to the isolation matrix
(``nvr/tests/test_isolation_matrix.py``), which fails on any it does not cover."""

from django.urls import URLPattern, URLResolver

websocket_urlpatterns: list[URLPattern | URLResolver] = []
