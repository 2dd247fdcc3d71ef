"""Two creations at the same instant take turns on the household's row: a limit only one
fits lets one through (real transactions and threads, as in production)."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from conftest import World
from recordings.models import Upload
from tools.upload_testing import MIB, clip_bytes, create, uploads_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slow_insert(monkeypatch) -> None:
    """Each creation waits between checking the limits and inserting its row: without the
    lock, both would check before either inserts, and both would pass."""
    real_save: Callable[..., Any] = Upload.save

    def save(self: Upload, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.4)
        real_save(self, *args, **kwargs)

    monkeypatch.setattr(Upload, "save", save)


def at_once(*requests: Callable[[], Any]) -> list[int]:
    statuses: list[int] = []

    def send(request: Callable[[], Any]) -> None:
        try:
            statuses.append(request().status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@pytest.mark.usefixtures("slow_insert")
def test_two_creations_at_once_cannot_both_pass_the_in_flight_limit(world: World, settings):
    settings.RECORDINGS_MAX_INFLIGHT_BYTES = 5 * MIB
    token = world.a.tokens[0]
    first, second = clip_bytes(3 * MIB), clip_bytes(3 * MIB)
    assert at_once(lambda: create(token, first), lambda: create(token, second)) == [201, 507]
    assert len(uploads_of(world.a.account.pk)) == 1


@pytest.mark.usefixtures("slow_insert")
def test_two_creations_at_once_cannot_both_take_the_last_open_upload(world: World, settings):
    settings.RECORDINGS_MAX_OPEN_UPLOADS_PER_CAMERA = 1
    token = world.a.tokens[0]
    assert at_once(lambda: create(token, clip_bytes(1000)), lambda: create(token, clip_bytes(1000))) == [201, 429]
    assert len(uploads_of(world.a.account.pk)) == 1
