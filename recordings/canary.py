"""The post-deploy canary (``manage.py canary``): two households check they see only their own.

It runs on a server of the site (it reads the database to prepare and to know what each
household holds) and talks to the live site over HTTP and websockets like a browser and a
camera would. The households, their owners and cameras are made once and reused; every run
gives each camera a fresh token, uploads a new short clip through the upload API, pushes
stamped frames over the device websocket, then signs in as each owner (a session made
here, on the server: no password or second factor travels) and compares what the site
shows with what the database says, and with what the other household holds.
"""

import hashlib
import json
import secrets
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urljoin
from urllib.request import HTTPRedirectHandler, Request, build_opener

import av
import numpy as np
from django.conf import settings
from django.test import Client
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from accounts.models import User
from accounts.selectors import memberships_for_user
from accounts.services import account_create, user_create
from accounts.tenancy import account_scope, user_scope
from devices.models import Camera, CameraKind
from devices.services import camera_create, token_rotate
from recordings import files
from recordings.models import Recording
from recordings.upload.client import upload_clip

LABELS = ("a", "b")
EMAIL = "canary-{label}@canary.invalid"  # .invalid: no mail can ever reach it
CAMERA_NAME = "Canary camera"
FRAMES = 10
STAMP = b"CANARY"


@dataclass
class Household:
    label: str
    account_id: uuid.UUID
    camera_id: uuid.UUID
    token: str
    cookie: str
    clips: set[str] = field(default_factory=set)  # what the database holds, after this run's upload
    thumbnails: dict[str, str] = field(default_factory=dict)  # clip id -> SHA-256 of its thumbnail
    cameras: set[str] = field(default_factory=set)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    checks: int = 0
    thumbnails_checked: int = 0
    frames_checked: int = 0

    def check(self, ok: bool, problem: str) -> None:
        self.checks += 1
        if not ok:
            self.problems.append(problem)


def prepare(label: str) -> Household:
    """The canary household ``label``: made the first time, reused after; a fresh token and session."""
    email = EMAIL.format(label=label)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(
            email=email, password=secrets.token_urlsafe(24), full_name=f"Canary {label.upper()}", email_verified=True
        )
    with user_scope(user.pk):
        memberships = memberships_for_user(user_id=user.pk)
    membership = memberships[0] if memberships else account_create(owner=user, name=f"Canary household {label.upper()}")
    with account_scope(membership.account_id):
        camera = Camera.objects.filter(name=CAMERA_NAME).first()
        if camera is None:
            camera, token = camera_create(actor=membership, name=CAMERA_NAME, kind=CameraKind.PUSH)
            assert token is not None
        else:
            token = token_rotate(actor=membership, camera=camera)
    # A signed-in session made on the server, as an operator's tool may: no password, no second factor.
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Household(label, membership.account_id, camera.pk, token, cookie)


def _write_clip(path: Path, *, frames: int = 5, fps: int = 5) -> None:
    """A 1 s MP4 of random noise, with PyAV (a runtime dependency: ``tools`` is not installed
    where the canary runs). Random, so each run's thumbnails differ from every other's."""
    rng = np.random.default_rng(secrets.randbits(64))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for _ in range(frames):
            picture = rng.integers(0, 256, size=(96, 160, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())


def upload(base_url: str, household: Household) -> str:
    """A 1 s clip of the household's own (its noise seeded at random, so thumbnails differ) through tus."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "canary.mp4"
        _write_clip(path)
        ended = timezone.now()
        return upload_clip(base_url, household.token, path, started_at=ended - timedelta(seconds=1), ended_at=ended)


def load_expected(household: Household) -> None:
    """What the database says the household holds: its cameras, clips, and thumbnails' hashes."""
    with account_scope(household.account_id):
        household.cameras = {str(pk) for pk in Camera.objects.values_list("pk", flat=True)}
        recordings = list(Recording.objects.all())
        household.clips = {str(recording.pk) for recording in recordings}
        for recording in recordings:
            if recording.has_thumbnail:
                size = files.clip_storage.plaintext_size(
                    account_id=recording.account_id, object_id=recording.pk, kind=files.THUMBNAIL
                )
                digest = hashlib.sha256()
                for part in files.open_range(recording, kind=files.THUMBNAIL, start=0, end_inclusive=size - 1):
                    digest.update(part)
                household.thumbnails[str(recording.pk)] = digest.hexdigest()


def wait_for_processing(household: Household, clip_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with account_scope(household.account_id):
            if Recording.objects.filter(pk=clip_id, processed_at__isnull=False).exists():
                return True
        time.sleep(1.0)
    return False


@dataclass
class Answer:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect (to sign in) is an answer to check, not to follow


_opener = build_opener(_NoRedirect)


def http_get(url: str, cookie: str) -> Answer:
    request = Request(url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})  # noqa: S310  (http(s) only: checked)
    try:
        with _opener.open(request, timeout=30) as response:
            return Answer(response.status, response.read())
    except HTTPError as error:
        return Answer(error.code, error.read())


def check_http(base_url: str, mine: Household, other: Household, report: Report) -> None:
    who = f"household {mine.label.upper()}"

    def get(path: str) -> Answer:
        return http_get(urljoin(base_url, path), mine.cookie)

    response = get("/api/v1/cameras/")
    report.check(response.status_code == 200, f"{who}: GET /api/v1/cameras/ answered {response.status_code}")
    if response.status_code == 200:
        seen = {item["id"] for item in response.json()}
        report.check(seen == mine.cameras, f"{who} sees cameras {sorted(seen)}, expected {sorted(mine.cameras)}")
        report.check(
            not seen & other.cameras, f"{who} sees the other household's cameras {sorted(seen & other.cameras)}"
        )
    clips: set[str] = set()
    thumbnails: dict[str, str] = {}
    url: str | None = "/api/v1/recordings/?page_size=100"
    while url:
        response = get(url)
        report.check(response.status_code == 200, f"{who}: GET {url} answered {response.status_code}")
        if response.status_code != 200:
            break
        data = response.json()
        for item in data["results"]:
            clips.add(item["id"])
            if item.get("thumbnail_url"):
                thumbnail = get(item["thumbnail_url"])
                report.check(thumbnail.status_code == 200, f"{who}: thumbnail of {item['id']}: {thumbnail.status_code}")
                thumbnails[item["id"]] = hashlib.sha256(thumbnail.content).hexdigest()
        url = data.get("next")
    report.check(clips == mine.clips, f"{who} sees clips {sorted(clips ^ mine.clips)} that differ from its own")
    report.check(not clips & other.clips, f"{who} sees the other household's clips {sorted(clips & other.clips)}")
    for clip, digest in thumbnails.items():
        report.thumbnails_checked += 1
        report.check(digest == mine.thumbnails.get(clip), f"{who}: the thumbnail of {clip} is not the one stored")
    foreign = set(thumbnails.values()) & set(other.thumbnails.values())
    report.check(not foreign, f"{who} was served thumbnails of the other household ({len(foreign)})")
    # The other household's objects answer 404 exactly like missing ones.
    for path in [f"/api/v1/cameras/{other.camera_id}/", *(f"/recordings/{clip}/thumbnail.jpg" for clip in other.clips)]:
        response = get(path)
        report.check(response.status_code == 404, f"{who}: GET {path} (the other's) answered {response.status_code}")


def stamped_frame(camera_id: uuid.UUID, seq: int) -> bytes:
    """A valid JPEG whose comment segment names the camera it was sent by."""
    import cv2
    import numpy as np

    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 90, dtype=np.uint8))
    assert ok
    payload = STAMP + camera_id.bytes + seq.to_bytes(4, "big")
    return b"".join((bytes(jpeg[:2]), b"\xff\xfe", (len(payload) + 2).to_bytes(2, "big"), payload, bytes(jpeg[2:])))


def stamp_of(frame: bytes) -> uuid.UUID | None:
    start = 6
    if frame[2:4] != b"\xff\xfe" or frame[start : start + len(STAMP)] != STAMP:
        return None
    return uuid.UUID(bytes=frame[start + len(STAMP) : start + len(STAMP) + 16])


def ws_base(base_url: str) -> str:
    return base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1).rstrip("/")


def open_viewer(base_url: str, viewer: Household, camera_id: uuid.UUID) -> ClientConnection:
    return connect(
        f"{ws_base(base_url)}/ws/live/{camera_id}/",
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={viewer.cookie}"},
        origin=Origin(base_url.rstrip("/")),
        open_timeout=30,
    )


def check_live(base_url: str, mine: Household, other: Household, report: Report) -> None:
    """Push stamped frames as the household's camera; its viewer must get them, and only them."""
    who = f"household {mine.label.upper()}"
    try:
        refused = open_viewer(base_url, mine, other.camera_id)
    except (InvalidHandshake, ConnectionClosed, OSError):
        report.check(True, "")
    else:
        refused.close()
        report.check(False, f"{who} could open the live view of the other household's camera")
    frames: list[bytes] = []
    try:
        viewer = open_viewer(base_url, mine, mine.camera_id)
    except (InvalidHandshake, OSError) as error:
        report.check(False, f"{who}: its own live view was refused: {error}")
        return

    def watch() -> None:
        try:
            while len(frames) < FRAMES // 2:
                message = viewer.recv(timeout=20)
                if isinstance(message, bytes):
                    frames.append(message)
                    viewer.send("ack")
        except (TimeoutError, ConnectionClosed):
            pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with connect(
            f"{ws_base(base_url)}/ws/device/",
            additional_headers={"Authorization": f"Bearer {mine.token}"},
            open_timeout=30,
        ) as device:
            for seq in range(FRAMES):
                device.send(stamped_frame(mine.camera_id, seq))
                time.sleep(0.2)
            watcher.join(timeout=20)
    except (InvalidHandshake, ConnectionClosed, OSError) as error:
        report.check(False, f"{who}: the camera's socket failed: {error}")
    viewer.close()
    report.check(bool(frames), f"{who}: no live frame reached its own viewer")
    for frame in frames:
        report.frames_checked += 1
        camera = stamp_of(frame)
        report.check(camera == mine.camera_id, f"{who}'s viewer got a frame of camera {camera}")


def run(base_url: str, *, processing_wait: float) -> tuple[Report, dict[str, Any]]:
    """Prepare both households, upload and push, then check each against its own and the other's."""
    report = Report()
    households = [prepare(label) for label in LABELS]
    uploaded = {}
    for household in households:
        try:
            uploaded[household.label] = upload(base_url, household)
        except Exception as error:  # any failure is the canary's finding, reported)
            report.check(False, f"household {household.label.upper()}: upload failed: {error}")
    for household in households:
        clip = uploaded.get(household.label)
        if clip and processing_wait > 0 and not wait_for_processing(household, clip, processing_wait):
            report.problems.append(f"household {household.label.upper()}: clip {clip} not processed in time")
        load_expected(household)
    first, second = households
    for mine, other in ((first, second), (second, first)):
        check_http(base_url, mine, other, report)
        check_live(base_url, mine, other, report)
    summary = {
        "url": base_url,
        "checks": report.checks,
        "problems": len(report.problems),
        "thumbnails_checked": report.thumbnails_checked,
        "frames_checked": report.frames_checked,
        "households": {h.label: {"clips": len(h.clips), "thumbnails": len(h.thumbnails)} for h in households},
    }
    return report, summary
