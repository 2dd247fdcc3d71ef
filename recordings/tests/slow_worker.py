"""The site's Celery app with processing slowed down and logged: for the worker-kill tests only.

``celery -A recordings.tests.slow_worker worker`` (test_worker_faults.py starts it;
nothing else imports this module). Each worker child, once forked, wraps
``recordings.processing``'s work step and its claim check: every attempt waits
``NVR_TEST_PROCESSING_DELAY_S`` before it starts decoding (so the test can kill it
mid-processing) and appends a line to ``NVR_TEST_PROCESSING_LOG``:
``start <recording> <attempt> <pid>``, and ``stored <recording> <attempt> <pid>`` when
the attempt holds the claim as it stores its outcome (at most one may).
"""

import os
import time
from typing import Any

from celery.signals import worker_process_init

from nvr.celery import app

__all__ = ["app"]


def _log(line: str) -> None:
    with open(os.environ["NVR_TEST_PROCESSING_LOG"], "a") as log:
        log.write(line + "\n")


@worker_process_init.connect
def _slow_down_processing(**kwargs: Any) -> None:
    from recordings import processing

    real_work, real_holds_claim = processing._work, processing._holds_claim
    delay = float(os.environ["NVR_TEST_PROCESSING_DELAY_S"])

    def work(job: Any) -> Any:
        _log(f"start {job.recording_id} {job.attempt} {os.getpid()}")
        time.sleep(delay)
        return real_work(job)

    def holds_claim(recording: Any, job: Any) -> bool:
        # Asked once per attempt, just before it stores its outcome (ready or failed), under the row's lock.
        holds = real_holds_claim(recording, job)
        if holds:
            _log(f"stored {job.recording_id} {job.attempt} {os.getpid()}")
        return holds

    processing._work, processing._holds_claim = work, holds_claim
