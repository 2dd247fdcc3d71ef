"""Camera status from the interfaces that know a camera only by its ids: the device
socket and the pull-camera worker. They enter the camera's household scope here, as every
interface does, and the service (``device_report``) runs inside it."""

import re
import uuid

from django.utils.translation import gettext

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


RETRYING = re.compile(r"(?P<status>.+); retrying in (?P<seconds>[0-9.]+) s\.")


def status_message_text(message: str) -> str:
    """A camera's stored status sentence (the ingest worker's, in English) in the reader's
    language: "<status>; retrying in N s." or a sentence alone; anything else as it is."""
    retrying = RETRYING.fullmatch(message)
    if retrying is None:
        return gettext(message) if message else ""
    return gettext("%(status)s; retrying in %(seconds)s s.") % {
        "status": gettext(retrying["status"]),
        "seconds": retrying["seconds"],
    }
