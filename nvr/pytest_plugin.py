"""Loaded by pytest before Django's settings (``-p nvr.pytest_plugin``).

Gives the test run its own data folder, so tests never write into the demo's
``var/`` (its filesystem broker queue would otherwise run test tasks).
With ``NVR_REQUIRE_SERVICES=1`` (set by ``.ci/run``) the run refuses to start
unless PostgreSQL, Redis and a networked broker are configured, and it turns
any skip of a test marked ``postgres``, ``redis``, ``browser``, ``rtsp`` or ``rabbitmq`` into a failure.
"""

import os
import sys
import tempfile
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

os.environ.setdefault("NVR_DATA_DIR", tempfile.mkdtemp(prefix="nvr-test-"))
# Never share a queue with a running demo or production worker on the same broker.
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "nvr-test")
# The cache (rate limits, failure counters, access-event dedupe) in a Redis database of the
# tests' own, next to the channel layer's: conftest empties it before every test.
if os.environ.get("REDIS_URL") and not os.environ.get("NVR_CACHE_URL"):
    _redis = urlsplit(os.environ["REDIS_URL"])
    _db = int(_redis.path.strip("/") or 0)
    os.environ["NVR_CACHE_URL"] = urlunsplit(_redis._replace(path=f"/{(_db + 1) % 16}"))

REQUIRED = {
    "DATABASE_URL": "postgres",
    "REDIS_URL": "redis://",
    "CELERY_BROKER_URL": "://",
}


# The modules whose code behaves differently on the embedded defaults (SQLite without
# row-level security but with its own triggers, select_for_update a no-op; the in-memory
# channel layer; the filesystem broker; the local-memory cache; the demo). CI's second
# pass, on those defaults, runs only these (marked ``embedded``): everything else ran, on
# the same code, in the services pass.
EMBEDDED_PASS = {
    # Households kept apart with the application's layers alone (no RLS underneath).
    "nvr/tests/test_isolation_matrix.py",
    "nvr/tests/test_isolation_matrix_cameras.py",
    "nvr/tests/test_isolation_matrix_support.py",
    "accounts/tests/test_tenancy.py",
    "accounts/tests/test_integrity.py",  # SQLite's same-household triggers
    "nvr/tests/test_query_counts.py",
    # Conditional UPDATEs and locks where SQLite has no row locks.
    "recordings/tests/test_processing_claim.py",
    "recordings/tests/test_recorder_lease.py",
    "recordings/tests/test_upload_limits_race.py",
    "notifications/tests/test_notifications.py",
    # Keyset pages (ordering and comparisons in SQL).
    "recordings/tests/test_api_recordings.py",
    "recordings/tests/test_events.py",
    "recordings/tests/test_timeline.py",
    # The local-memory cache: rate limits and failure counters.
    "accounts/tests/test_throttling.py",
    "recordings/tests/test_sharing.py",
    # The in-memory channel layer: live view, cameras' sockets, revocation, support's live view.
    "devices/tests/test_fanout.py",
    "devices/tests/test_live_view.py",
    "devices/tests/test_device_socket.py",
    "devices/tests/test_socket_limits.py",
    "devices/tests/test_revocation.py",
    "support/tests/test_support_live.py",
    # The filesystem broker and the demo's defaults.
    "accounts/tests/test_tasks.py",
    "accounts/tests/test_commands.py",
    "accounts/tests/test_sessions_across_processes.py",
    "devices/tests/test_demo_cameras.py",
    "nvr/tests/test_settings.py",
    "nvr/tests/test_services.py",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::", 1)[0] in EMBEDDED_PASS:
            item.add_marker(pytest.mark.embedded)


def services_required() -> bool:
    return os.environ.get("NVR_REQUIRE_SERVICES", "") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if not services_required():
        return
    missing = [name for name, needle in REQUIRED.items() if needle not in os.environ.get(name, "")]
    if missing or os.environ.get("CELERY_BROKER_URL", "").startswith("filesystem"):
        raise pytest.UsageError(f"NVR_REQUIRE_SERVICES=1 but these are not configured for services: {missing}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    needs_service = any(
        item.get_closest_marker(name) for name in ("postgres", "redis", "browser", "rtsp", "rabbitmq", "fuzz")
    )
    if services_required() and report.skipped and needs_service:
        report.outcome = "failed"
        report.longrepr = "A test needing a service was skipped in a run that requires them (NVR_REQUIRE_SERVICES=1)."


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many requests the isolation matrix made, and whether all were refused."""
    matrix = sys.modules.get("nvr.tests.test_isolation_matrix")
    if matrix is None:
        return
    failed = [r for r in terminalreporter.stats.get("failed", []) if "test_isolation_matrix" in r.nodeid]
    attacks = matrix.ATTACKS
    verdict = f"{len(failed)} matrix test(s) FAILED" if failed else "every one refused (404/405, or a sign-in redirect)"
    sockets = (
        f"{attacks['websocket']} websocket connections"
        if matrix.WEBSOCKET_ROUTES
        else "no websocket routes yet (0 connections)"
    )
    limited = ""
    if attacks.get("limited_http") or attacks.get("limited_websocket"):
        limited = (
            f"; {attacks['limited_http']} HTTP requests and {attacks['limited_websocket']} websocket connections "
            "by people limited to some cameras against their household's other cameras"
        )
    terminalreporter.write_line(
        f"isolation matrix: {attacks['http']} HTTP (route, method, actor) requests against another household, "
        f"{sockets}{limited}: {verdict}"
    )
