"""A Celery worker killed mid-processing: after a restart the clip ends ready exactly once, within seconds.

Real ``celery worker`` processes (``recordings.tests.slow_worker``: the site's app
with each attempt slowed and logged) on a queue of the test's own, against the
test database. The test kills them itself; the shared services are never touched.

- Embedded filesystem broker: it never redelivers, so the whole worker (main
  process and child) is killed; the restarted worker's beat runs the requeue
  (``recordings.requeue``) every second with a claim stale after 2 s.
- RabbitMQ: the child is killed mid-task (acks late, reject on worker lost), then
  the worker; the broker redelivers, and the message waits for the dead attempt's
  claim to go stale before it processes the clip.

"Exactly once" is counted from the worker's log: attempt 1 started and was
killed, attempt 2 started and was the only one to store an outcome.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from accounts.tenancy import account_scope
from conftest import World
from nvr import testing
from nvr.celery import app
from recordings import files
from recordings.models import Recording, RecordingStatus
from recordings.tasks import process_recording
from recordings.tests.factories import make_recording

pytestmark = pytest.mark.django_db(transaction=True)

STALE_S = 2  # the claim of a killed attempt is taken over after this
WAIT_S = 60  # bound on every wait below (each normally takes a few seconds)


@contextmanager
def celery_worker(
    queue: str, log: Path, *, delay_s: float, beat_schedule: Path | None = None, broker_url: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A ``celery worker`` (one prefork child) in a process group of its own, on ``queue`` only."""
    env = {
        **os.environ,
        "DATABASE_URL": testing.test_database_url(),
        "DATABASE_OWNER_URL": "",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "RECORDINGS_PROCESSING_STALE_S": str(STALE_S),
        "RECORDINGS_REQUEUE_EVERY_S": "1",
        "NVR_TEST_PROCESSING_LOG": str(log),
        "NVR_TEST_PROCESSING_DELAY_S": str(delay_s),
    }
    if broker_url is not None:
        env["CELERY_BROKER_URL"] = broker_url
    command = [sys.executable, "-m", "celery", "-A", "recordings.tests.slow_worker", "worker"]
    command += [
        "--pool=prefork",
        "--concurrency=1",
        f"--queues={queue}",
        f"--hostname={queue}-{uuid.uuid4().hex[:6]}@%h",
    ]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel=INFO"]
    if beat_schedule is not None:
        command += ["--beat", f"--schedule={beat_schedule}"]
    output = open(log.with_suffix(f".worker-{time.monotonic_ns()}.log"), "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        command, cwd=testing.ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        output.close()


def kill_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's main process and its child: no cleanup, no acknowledgement, nothing."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def lines(log: Path, kind: str) -> list[list[str]]:
    """The slow worker's log lines of one kind (``start`` or ``stored``), split."""
    if not log.exists():
        return []
    return [line.split()[1:] for line in log.read_text().splitlines() if line.startswith(kind + " ")]


def wait_for(what: str, condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def world(_households: World) -> World:
    """The households without their fixture clips (one is left PROCESSING: the requeue would take it too)."""
    return _households


def uploaded(world: World) -> Recording:
    camera = world.a.cameras[0]
    with account_scope(camera.account_id):
        return make_recording(camera, status=RecordingStatus.UPLOADED)


def fetch(recording: Recording) -> Recording:
    with account_scope(recording.account_id):
        return Recording.objects.get(pk=recording.pk)


def assert_ready_exactly_once(recording: Recording, log: Path) -> None:
    """One row, READY, its files stored; attempt 1 killed, attempt 2 the only one that stored an outcome."""
    with account_scope(recording.account_id):
        assert Recording.objects.filter(pk=recording.pk).count() == 1
    after = fetch(recording)
    assert after.status == RecordingStatus.READY, after.failure_reason
    assert after.has_thumbnail
    assert after.processing_attempts == 2
    for kind in (files.CLIP, files.THUMBNAIL):
        assert files.clip_storage.exists(account_id=recording.account_id, object_id=recording.pk, kind=kind)
    pk = str(recording.pk)
    assert [(rec, attempt) for rec, attempt, _pid in lines(log, "start")] == [(pk, "1"), (pk, "2")]
    assert [(rec, attempt) for rec, attempt, _pid in lines(log, "stored")] == [(pk, "2")]


def started(log: Path) -> bool:
    return bool(lines(log, "start"))


def test_a_killed_worker_on_the_embedded_broker_is_made_good_by_the_requeue(world: World, tmp_path):
    """The filesystem broker loses the killed worker's message; the requeue claims the clip and enqueues it again."""
    from kombu import Connection

    queue, log = f"nvr-test-faults-{uuid.uuid4().hex[:8]}", tmp_path / "processing.log"
    folders = {name: settings.CELERY_BROKER_DIR / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    broker = "filesystem://localhost//"
    options = {
        "control_folder": str(folders["control"]),
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "store_processed": False,
    }
    recording = uploaded(world)

    with celery_worker(queue, log, delay_s=60, broker_url=broker) as worker:
        # Published to the filesystem broker whatever this run's broker is (it is the one under test).
        with Connection(broker, transport_options=options) as connection:
            process_recording.apply_async(
                args=(str(recording.account_id), str(recording.pk)), queue=queue, connection=connection
            )  # type: ignore[call-arg]  # celery-types lacks ``connection``
        wait_for("the first attempt starts", lambda: started(log))
        kill_worker(worker)
    assert fetch(recording).status == RecordingStatus.PROCESSING

    restarted = time.monotonic()
    with celery_worker(queue, log, delay_s=0, beat_schedule=tmp_path / "beat", broker_url=broker):
        wait_for("the clip is ready", lambda: fetch(recording).status == RecordingStatus.READY)
        print(f"embedded broker: ready {time.monotonic() - restarted:.1f} s after the worker restarted")
        # Beat runs the requeue every second: a few more runs must find nothing to redo.
        time.sleep(2.5)
    assert_ready_exactly_once(recording, log)


@pytest.mark.rabbitmq
def test_a_killed_worker_child_on_rabbitmq_is_redelivered(world: World, tmp_path):
    """acks late + reject on worker lost: RabbitMQ redelivers; the redelivery waits out the dead attempt's claim."""
    if not str(app.conf.broker_url).startswith("amqp"):
        pytest.skip("needs RabbitMQ (CELERY_BROKER_URL=amqp://...)")
    queue, log = f"nvr-test-faults-{uuid.uuid4().hex[:8]}", tmp_path / "processing.log"
    recording = uploaded(world)
    try:
        with celery_worker(queue, log, delay_s=60) as worker:
            process_recording.apply_async(args=(str(recording.account_id), str(recording.pk)), queue=queue)
            wait_for("the first attempt starts", lambda: started(log))
            child = int(lines(log, "start")[0][2])
            assert child != worker.pid
            os.kill(child, signal.SIGKILL)
            kill_worker(worker)
        assert fetch(recording).status == RecordingStatus.PROCESSING

        restarted = time.monotonic()
        with celery_worker(queue, log, delay_s=0):
            wait_for("the clip is ready", lambda: fetch(recording).status == RecordingStatus.READY)
            print(f"RabbitMQ: ready {time.monotonic() - restarted:.1f} s after the worker restarted")
            time.sleep(1)
        assert_ready_exactly_once(recording, log)
    finally:
        with app.connection_for_write() as connection:
            connected: Any = connection  # celery-types does not know kombu's Connection
            connected.default_channel.queue_delete(queue)  # the shared broker keeps nothing of ours
