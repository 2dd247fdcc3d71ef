"""A recorded segment becomes a clip: encrypted into the household's storage, then a
``Recording`` processed like an uploaded clip (thumbnail, motion events, retention,
and room made within the household's quota at once)."""

import uuid
from datetime import datetime
from pathlib import Path

from accounts.tenancy import require_account_scope
from devices.models import Camera
from recordings import files
from recordings.models import Recording
from recordings.retention import make_room
from recordings.services import recording_create

__all__ = ["segment_store"]


def segment_store(*, camera: Camera, path: Path, started_at: datetime, ended_at: datetime) -> Recording:
    """Store the plaintext segment at ``path`` as a clip of ``camera``; all or nothing.

    Runs in the camera's household scope (the recorder opens it). The caller removes
    ``path`` once this has committed; should the commit fail, the encrypted copy left
    without a row is the sweep's.
    """
    require_account_scope(camera.account_id)
    recording_id = uuid.uuid4()
    with path.open("rb") as source:
        stored = files.store(account_id=camera.account_id, recording_id=recording_id, kind=files.CLIP, source=source)
    try:
        recording = recording_create(
            camera=camera,
            recording_id=recording_id,
            started_at=started_at,
            ended_at=ended_at,
            size_bytes=stored.plaintext_size,
            sha256=stored.sha256_hex,
        )
        # As for an upload: the household's oldest other clips make room within its quota.
        make_room(camera.account_id, keep=recording.pk)
        return recording
    except BaseException:
        files.delete(account_id=camera.account_id, recording_id=recording_id)
        raise
