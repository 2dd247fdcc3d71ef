"""A session ended in one process is ended in every other at once, whichever session
engine runs (``cached_db`` on the shared Redis cache in CI, the database embedded)."""

import pytest
from allauth.usersessions.adapter import get_adapter as get_sessions_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings

from conftest import World, client_for
from nvr.testing import LiveHttpClient, daphne_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_session_engine_reads_from_a_cache_only_when_every_process_shares_it():
    shared = settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cached = settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    assert cached == shared


def test_a_session_ended_elsewhere_no_longer_opens_pages_on_either_process(world: World):
    client = client_for(world.a.owner)
    cookies = {"sessionid": client.cookies["sessionid"].value}
    client.get("/")  # a request here, so the session is the portal's (and cached, with cached_db)
    with daphne_server() as one, daphne_server() as two:
        on_one, on_two = LiveHttpClient(one, cookies), LiveHttpClient(two, cookies)
        assert on_one.request("GET", "/cameras/") == 200
        assert on_two.request("GET", "/cameras/") == 200  # read, and cached, in that process too
        # Support's or the sessions page's way of ending it, from this (third) process.
        get_sessions_adapter().end_sessions(UserSession.objects.purge_and_list(world.a.owner))
        assert on_one.request("GET", "/cameras/") == 302
        assert on_two.request("GET", "/cameras/") == 302
