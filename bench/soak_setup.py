"""Data for ``soak.py``: households, push cameras, stamped clips and signed-in sessions.

Run against a migrated database (the environment says which, as for the site):

    DJANGO_SETTINGS_MODULE=nvr.settings PYTHONPATH=. python bench/soak_setup.py --households 20

Prints one JSON line: ``{"households": [{"account", "cameras": [{"id", "token"}], "recordings":
{id: camera}, "cookies": [...]}, ...]}``. Every clip's thumbnail is stamped with its
household (``soak_stamp.py``) so a page that shows another household's picture is caught.
"""

import argparse
import hashlib
import io
import json
import os
import secrets
import sys
import uuid
from datetime import timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nvr.settings")
django.setup()

from django.test import Client  # noqa: E402  (needs the apps loaded)
from django.utils import timezone  # noqa: E402
from soak_stamp import stamp  # noqa: E402

from accounts.services import account_create, user_create  # noqa: E402
from accounts.tenancy import account_scope  # noqa: E402
from devices.models import Camera, CameraKind  # noqa: E402
from devices.services import camera_create  # noqa: E402
from recordings import files  # noqa: E402
from recordings.models import RecordingStatus  # noqa: E402
from recordings.services import recording_create  # noqa: E402

CLIP = b"soak clip: never played, only listed"


def ready_recording(camera: Camera, index: int) -> uuid.UUID:
    """A ready clip whose thumbnail carries the household's stamp (the clip itself is never served)."""
    recording_id = uuid.uuid4()
    started_at = timezone.now() - timedelta(minutes=5 * (index + 1))
    info = files.store(
        account_id=camera.account_id, recording_id=recording_id, kind=files.CLIP, source=io.BytesIO(CLIP)
    )
    recording = recording_create(
        camera=camera,
        recording_id=recording_id,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=2),
        size_bytes=info.plaintext_size,
        sha256=hashlib.sha256(CLIP).hexdigest(),
    )
    poster = stamp(index, camera.account_id)
    files.store(
        account_id=camera.account_id, recording_id=recording_id, kind=files.THUMBNAIL, source=io.BytesIO(poster)
    )
    recording.has_thumbnail = True
    recording.duration_s, recording.fps, recording.width, recording.height = 2.0, 10.0, 64, 48
    recording.codec = "h264"
    recording.processed_at = timezone.now()
    recording.status = RecordingStatus.READY
    recording.save()
    return recording_id


def household(label: str, *, cameras: int, recordings: int, sessions: int) -> dict[str, Any]:
    owner = user_create(
        email=f"soak-{label}-{secrets.token_hex(4)}@example.com",
        password=secrets.token_urlsafe(16),
        full_name=f"Soak owner {label}",
        email_verified=True,
    )
    membership = account_create(owner=owner, name=f"Soak household {label}")
    made: list[dict[str, str]] = []
    clips: dict[str, str] = {}
    with account_scope(membership.account_id):
        for number in range(cameras):
            camera, token = camera_create(actor=membership, name=f"Camera {number + 1}", kind=CameraKind.PUSH)
            assert token is not None
            made.append({"id": str(camera.pk), "token": token})
            for index in range(recordings):
                clips[str(ready_recording(camera, index))] = str(camera.pk)
    cookies = []
    for _ in range(sessions):
        client = Client()
        client.force_login(owner)
        cookies.append(client.cookies["sessionid"].value)
    return {"account": str(membership.account_id), "cameras": made, "recordings": clips, "cookies": cookies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20)
    parser.add_argument("--cameras", type=int, default=2, help="push cameras per household")
    parser.add_argument("--recordings", type=int, default=12, help="ready clips per camera")
    parser.add_argument("--sessions", type=int, default=2, help="signed-in sessions per household's owner")
    args = parser.parse_args()
    run = secrets.token_hex(3)
    data = [
        household(f"{run}-{n}", cameras=args.cameras, recordings=args.recordings, sessions=args.sessions)
        for n in range(args.households)
    ]
    sys.stdout.write(json.dumps({"households": data}) + "\n")


if __name__ == "__main__":
    main()
