"""The processing claim and the requeue of clips whose worker died (recordings.processing, recordings.requeue).

One attempt at a time: a fresh claim makes any other attempt wait, a stale one is
taken over, and only the attempt holding the latest claim stores an outcome.
The real worker-kill tests are in test_worker_faults.py.
"""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.tenancy import account_scope
from conftest import World
from recordings import processing, requeue, tasks
from recordings.models import Recording, RecordingStatus
from recordings.tasks import process_recording
from recordings.tests.factories import make_recording

pytestmark = pytest.mark.django_db


def uploaded(world: World) -> Recording:
    camera = world.a.cameras[0]
    with account_scope(camera.account_id):
        return make_recording(camera, status=RecordingStatus.UPLOADED)


def fetch(recording: Recording) -> Recording:
    with account_scope(recording.account_id):
        return Recording.objects.get(pk=recording.pk)


def set_claim(recording: Recording, *, attempts: int, age_s: float | None) -> None:
    started = None if age_s is None else timezone.now() - timedelta(seconds=age_s)
    with account_scope(recording.account_id):
        Recording.objects.filter(pk=recording.pk).update(
            status=RecordingStatus.PROCESSING, processing_attempts=attempts, processing_started_at=started
        )


def run(recording: Recording, claim: int | None = None) -> str:
    args = (str(recording.account_id), str(recording.pk))
    return str(process_recording.apply(args=args, kwargs={"claim": claim}).get())


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(process_recording, "delay", lambda *args: calls.append(args))
    return calls


def test_the_first_attempt_claims_the_clip_and_counts_itself(world: World):
    recording = uploaded(world)
    before = timezone.now()
    assert run(recording) == RecordingStatus.READY
    after = fetch(recording)
    assert after.processing_attempts == 1
    assert after.processing_started_at is not None
    assert after.processing_started_at >= before


@pytest.mark.django_db(transaction=True)  # the renewals come from a thread of their own
def test_a_long_attempt_renews_its_claim_and_is_never_taken_over(world: World, settings, monkeypatch, enqueued):
    """An attempt that outlives the threshold is alive, not dead: its claim is renewed
    while it works, so the requeue leaves it alone and it stores its outcome once."""
    settings.RECORDINGS_PROCESSING_STALE_S = 2  # renewed every 0.5 s
    recording = uploaded(world)
    real_work, during = processing._work, {}

    def slow_work(job: Any) -> Any:
        began = fetch(recording).processing_started_at
        assert began is not None
        deadline = time.monotonic() + 30
        while (timezone.now() - began).total_seconds() < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        renewed = fetch(recording).processing_started_at
        during["renewed"] = renewed is not None and renewed > began
        requeue.requeue_stale_processing()
        during["taken over"] = fetch(recording).processing_attempts != job.attempt
        return real_work(job)

    monkeypatch.setattr(processing, "_work", slow_work)
    assert run(recording) == RecordingStatus.READY
    assert during == {"renewed": True, "taken over": False}
    assert fetch(recording).processing_attempts == 1


def test_a_fresh_claim_makes_another_attempt_wait(world: World, settings):
    """A redelivered message while the first attempt may be alive: BUSY, nothing changed."""
    settings.RECORDINGS_PROCESSING_STALE_S = 60
    recording = uploaded(world)
    set_claim(recording, attempts=1, age_s=5)
    assert run(recording) == processing.BUSY
    after = fetch(recording)
    assert (after.status, after.processing_attempts, after.processed_at) == (RecordingStatus.PROCESSING, 1, None)


def test_a_stale_claim_is_taken_over(world: World, settings):
    settings.RECORDINGS_PROCESSING_STALE_S = 60
    recording = uploaded(world)
    set_claim(recording, attempts=1, age_s=61)
    assert run(recording) == RecordingStatus.READY
    assert fetch(recording).processing_attempts == 2


def test_a_slow_attempt_superseded_by_the_requeue_stores_nothing(world: World, settings, monkeypatch, enqueued):
    """The slow-but-alive attempt and the requeue's attempt: exactly one stores its outcome."""
    recording = uploaded(world)
    real_work = processing._work
    requeued: list[int] = []

    def slow_work(job):
        # Meanwhile the claim goes stale and the requeue takes the clip over.
        settings.RECORDINGS_PROCESSING_STALE_S = 0
        requeued.append(requeue.requeue_stale_processing())
        return real_work(job)

    monkeypatch.setattr(processing, "_work", slow_work)
    with django_capture_on_commit():
        assert run(recording) == RecordingStatus.PROCESSING  # superseded: its outcome is dropped
    assert len(requeued) == 1
    # (The fixture's households have clips left PROCESSING too: stale as well at 0 s.)
    assert (str(recording.account_id), str(recording.pk), 2) in enqueued
    after = fetch(recording)
    assert (after.status, after.processed_at, after.processing_attempts) == (RecordingStatus.PROCESSING, None, 2)

    monkeypatch.setattr(processing, "_work", real_work)
    settings.RECORDINGS_PROCESSING_STALE_S = 60
    assert run(recording, claim=2) == RecordingStatus.READY  # the requeued message, with its claim
    assert fetch(recording).processing_attempts == 2
    assert run(recording, claim=1) == RecordingStatus.READY  # a late old message changes nothing


def test_a_busy_message_looks_again_once_the_claim_can_be_stale(world: World, settings, monkeypatch):
    """In a worker (not eager) a BUSY answer is retried after the stale threshold, a bounded number of times."""
    settings.RECORDINGS_PROCESSING_STALE_S = 60
    recording = uploaded(world)
    set_claim(recording, attempts=1, age_s=5)
    retried: list[float] = []

    class Retried(Exception):
        pass

    def retry(**options):
        retried.append(options["countdown"])
        return Retried()

    monkeypatch.setattr(process_recording, "retry", retry)
    args = (str(recording.account_id), str(recording.pk))
    task: Any = process_recording  # celery-types does not know push_request's keywords
    task.push_request(retries=0, is_eager=False)
    try:
        with pytest.raises(Retried):
            process_recording.run(*args)
    finally:
        process_recording.pop_request()
    assert retried == [61]
    task.push_request(retries=tasks.BUSY_RETRIES, is_eager=False)
    try:
        assert process_recording.run(*args) == processing.BUSY  # then the requeue's turn
    finally:
        process_recording.pop_request()
    assert retried == [61]


def test_a_superseded_claim_does_not_start(world: World):
    """The requeue's message arrives after a newer claim was made: it waits, never runs beside it."""
    recording = uploaded(world)
    set_claim(recording, attempts=3, age_s=1)
    assert run(recording, claim=2) == processing.BUSY
    assert fetch(recording).processing_attempts == 3


def test_the_requeue_claims_only_stale_processing_clips_once(world: World, settings, enqueued):
    settings.RECORDINGS_PROCESSING_STALE_S = 60
    stale, fresh, legacy, waiting = (uploaded(world) for _ in range(4))
    set_claim(stale, attempts=1, age_s=61)
    set_claim(fresh, attempts=1, age_s=30)
    set_claim(legacy, attempts=0, age_s=None)  # from before claims were kept: its age is its creation's
    with account_scope(legacy.account_id):
        Recording.objects.filter(pk=legacy.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    other = world.b.recordings[0]  # READY, in another household: never touched
    with django_capture_on_commit():
        assert requeue.requeue_stale_processing() == 2
    assert sorted(enqueued) == sorted(
        [(str(stale.account_id), str(stale.pk), 2), (str(legacy.account_id), str(legacy.pk), 1)]
    )
    assert fetch(stale).processing_attempts == 2
    assert fetch(fresh).processing_attempts == 1
    assert fetch(waiting).status == RecordingStatus.UPLOADED
    assert fetch(other).status == RecordingStatus.READY
    # The claim's clock restarted: the next run (a minute later) does not enqueue them again.
    with django_capture_on_commit():
        assert requeue.requeue_stale_processing() == 0
    assert len(enqueued) == 2


def test_beat_runs_the_requeue_every_minute_by_default():
    entry = django_settings.CELERY_BEAT_SCHEDULE["recordings-requeue-stale-processing"]
    assert entry["task"] == "recordings.tasks.requeue_stale_processing"
    assert entry["schedule"] == django_settings.RECORDINGS_REQUEUE_EVERY_S == 60.0
    # A dead worker's clip is taken over within about a minute (live attempts renew their claim).
    assert django_settings.RECORDINGS_PROCESSING_STALE_S == 60.0


def django_capture_on_commit():
    """Run on-commit callbacks as the block's transactions commit (the test's own transaction never does)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
