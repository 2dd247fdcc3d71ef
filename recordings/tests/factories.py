"""Recordings for tests: a real H.264 clip and a JPEG poster, stored encrypted like uploads are.

The clip is made once per test session (``synth.make_clip``) and stored per
recording, so every recording a test makes can really be played.
"""

import functools
import hashlib
import io
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.utils import timezone

from devices.models import Camera
from recordings import files
from recordings.models import MotionEvent, Recording, RecordingStatus, ShareLink
from recordings.services import recording_create
from tools.synth import make_clip

CLIP_SECONDS = 2.0


@functools.cache
def sample_clip() -> bytes:
    """A 2 s, 320x180, 10 fps H.264 MP4 (index first) with motion from 0.5 s to 1.5 s."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        make_clip(path, seconds=CLIP_SECONDS, fps=10, width=320, height=180, motion=[(0.5, 1.5)])
        return path.read_bytes()


@functools.cache
def sample_poster() -> bytes:
    picture = np.full((90, 160, 3), 90, dtype=np.uint8)
    ok, jpeg = cv2.imencode(".jpg", picture)
    assert ok
    return bytes(jpeg)


def make_recording(
    camera: Camera,
    *,
    started_at: datetime | None = None,
    status: RecordingStatus = RecordingStatus.READY,
    motion: bool = True,
    clip: bytes | None = None,
) -> Recording:
    """A recording of ``camera`` with its encrypted clip (and, when ready, thumbnail and motion event).

    Call inside the camera's household scope.
    """
    clip = sample_clip() if clip is None else clip
    started_at = started_at or timezone.now() - timedelta(minutes=5)
    recording_id = uuid.uuid4()
    info = files.store(
        account_id=camera.account_id, recording_id=recording_id, kind=files.CLIP, source=io.BytesIO(clip)
    )
    recording = recording_create(
        camera=camera,
        recording_id=recording_id,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=CLIP_SECONDS),
        size_bytes=info.plaintext_size,
        sha256=hashlib.sha256(clip).hexdigest(),
    )
    if status == RecordingStatus.READY:
        files.store(
            account_id=camera.account_id,
            recording_id=recording_id,
            kind=files.THUMBNAIL,
            source=io.BytesIO(sample_poster()),
        )
        recording.has_thumbnail = True
        recording.duration_s, recording.fps, recording.width, recording.height = CLIP_SECONDS, 10.0, 320, 180
        recording.codec = "h264"
        recording.processed_at = timezone.now()
        recording.stored_bytes = files.stored_bytes(account_id=camera.account_id, recording_id=recording_id)
        if motion:
            recording.has_motion, recording.motion_score = True, 0.8
            MotionEvent.objects.create(
                account_id=camera.account_id,
                recording=recording,
                started_at=started_at + timedelta(seconds=0.5),
                ended_at=started_at + timedelta(seconds=1.5),
                score=0.8,
            )
    recording.status = status
    recording.save()
    return recording


def make_share_link(
    household: Any, *, lifetime: str = "1d", recording: Recording | None = None
) -> tuple[ShareLink, str]:
    """A share link to the household's ready clip made by its owner: the row and its secret."""
    from accounts.models import Role
    from accounts.tenancy import account_scope
    from recordings.services import share_link_create

    with account_scope(household.account.pk):
        return share_link_create(
            actor=household.memberships[Role.OWNER], recording=recording or household.recordings[0], lifetime=lifetime
        )
