"""The recorder of pull cameras, as the ingest worker sees it (``devices.extensions.PullRecorder``).

The worker reads each camera once; this says whether and how to record it (the
camera's recording settings), keeps one process per camera (the lease) and turns
each file the reader closed into a clip (``segment_store``). Each method enters the
camera's household scope: the worker calls it, in no household, for many.
"""

import uuid
from datetime import datetime
from pathlib import Path

from django.conf import settings

from accounts.tenancy import account_scope
from devices.extensions import RecordPlan
from devices.models import Camera
from recordings.models import CameraRecordingSettings, RecordMode
from recordings.recorder.lease import lease_release, lease_renew, lease_take
from recordings.recorder.store import segment_store

__all__ = ["PullCameraRecorder"]


class PullCameraRecorder:
    """Registered from ``RecordingsConfig.ready()``."""

    @property
    def lease_seconds(self) -> float:
        return float(settings.RECORDER_LEASE_S)

    def plan(self, camera_id: uuid.UUID, account_id: uuid.UUID) -> RecordPlan | None:
        with account_scope(account_id):
            row = CameraRecordingSettings.objects.filter(camera_id=camera_id).first()
        if row is None or row.record_mode == RecordMode.OFF:
            return None
        return RecordPlan(
            mode=row.record_mode,
            seconds=float(row.segment_seconds),
            pre_roll=row.pre_roll_s,
            post_roll=row.post_roll_s,
            sensitivity=row.motion_sensitivity,
            min_area_percent=row.motion_min_area_percent,
        )

    def claim(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> bool:
        with account_scope(account_id):
            return lease_take(account_id=account_id, camera_id=camera_id, holder=holder, seconds=self.lease_seconds)

    def renew(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> bool:
        with account_scope(account_id):
            return lease_renew(account_id=account_id, camera_id=camera_id, holder=holder, seconds=self.lease_seconds)

    def release(self, camera_id: uuid.UUID, account_id: uuid.UUID, holder: str) -> None:
        with account_scope(account_id):
            lease_release(account_id=account_id, camera_id=camera_id, holder=holder)

    def store(
        self, camera_id: uuid.UUID, account_id: uuid.UUID, path: Path, started_at: datetime, ended_at: datetime
    ) -> None:
        with account_scope(account_id):
            camera = Camera.objects.filter(pk=camera_id).first()
            if camera is None:
                return  # deleted while it was recorded: its file goes with it
            segment_store(camera=camera, path=path, started_at=started_at, ended_at=ended_at)
