"""The misdelivery soak (bench/soak.py), short: real daphnes, its own Redis restarted, PostgreSQL.

Runs only in the services pass: the soak needs PostgreSQL's row-level security and the
Redis channel layer shared by two processes (it starts its own ``redis-server``).
"""

import json
import shutil
import subprocess
import sys

import pytest
from django.db import connection

from nvr import testing

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

HOUSEHOLDS = 8  # fewer than the bench's 20: the CI machine has 2 cores and a 15 s window


@pytest.fixture(autouse=True)
def _services():
    if connection.vendor != "postgresql":
        pytest.skip("the soak runs on PostgreSQL (CI runs it with NVR_REQUIRE_SERVICES=1)")
    if shutil.which("redis-server") is None:
        pytest.skip("the soak starts a redis-server of its own")


@pytest.mark.timeout(170)
def test_nothing_reaches_another_household_under_reconnects_and_a_redis_restart():
    done = subprocess.run(
        [
            sys.executable,
            "bench/soak.py",
            "--seconds=15",
            f"--households={HOUSEHOLDS}",
            "--recordings=2",
            "--hold=4,10",
            "--http-clients=2",
            "--outage=2",
            f"--database-url={testing.test_database_url()}",
            "--no-migrate",
        ],
        cwd=testing.ROOT,
        capture_output=True,
        text=True,
        timeout=160,
        check=False,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["misdelivered"] == 0, done.stderr[-3000:]
    assert figures["frames_wrong_camera"] == 0
    assert figures["frames_unstamped"] == 0
    # Every household's viewers saw their own frames, and pages were read: the checks ran.
    assert figures["households"] == HOUSEHOLDS
    assert figures["households_without_frames"] == 0, figures
    assert figures["frames_checked_per_household_min"] > 0
    assert figures["responses_checked"] > 0
    assert figures["redis_outage_s"] is not None
    assert done.returncode == 0, done.stderr[-3000:]
