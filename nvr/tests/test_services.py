"""The configured services are really used: channel layer, cache, broker, database.

On the embedded defaults these exercise the in-memory layer, the local cache
and the filesystem broker; in CI (NVR_REQUIRE_SERVICES=1) Redis, RabbitMQ and
PostgreSQL, and the first test proves that they are the ones configured.
"""

import os
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from nvr.celery import app


def test_ci_runs_on_the_real_services(db):
    if os.environ.get("NVR_REQUIRE_SERVICES") != "1":
        assert connection.vendor == "sqlite"
        assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
        assert str(app.conf.broker_url).startswith("filesystem")
        return
    assert connection.vendor == "postgresql"
    assert str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).startswith("channels_redis")
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert not str(app.conf.broker_url).startswith("filesystem")


def test_the_channel_layer_carries_a_group_message():
    layer = get_channel_layer()
    assert layer is not None

    async def roundtrip() -> dict:
        channel = await layer.new_channel()
        await layer.group_add("services-test", channel)
        await layer.group_send("services-test", {"type": "probe", "n": 7})
        message = await layer.receive(channel)
        await layer.group_discard("services-test", channel)
        return message

    assert async_to_sync(roundtrip)() == {"type": "probe", "n": 7}


def test_the_cache_stores_and_expires():
    cache.set("services-test", {"v": 1}, timeout=30)
    assert cache.get("services-test") == {"v": 1}
    cache.delete("services-test")
    assert cache.get("services-test") is None


def test_the_broker_accepts_connections():
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=3)
        connected: Any = conn  # celery-types does not know kombu's Connection
        assert connected.default_channel is not None  # a round trip to the broker
