"""Camera status from the interfaces that know a camera only by its ids: the device
socket and the pull-camera worker. They enter the camera's household scope here, as every
interface does, and the service (``device_report``) runs inside it."""

import uuid

from accounts.tenancy import account_scope
from devices.models import CameraStatus
from devices.selectors import Watching, camera_watched
from devices.services import device_report


def report_in_scope(
    *, camera_id: uuid.UUID, account_id: uuid.UUID, status: CameraStatus, fps: float | None = None, message: str = ""
) -> None:
    with account_scope(account_id):
        device_report(camera_id=camera_id, status=status, fps=fps, message=message)


def watched_in_scope(*, camera_id: uuid.UUID, account_id: uuid.UUID) -> Watching:
    with account_scope(account_id):
        return camera_watched(camera_id=camera_id)
