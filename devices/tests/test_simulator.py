"""The simulated camera: its picture, and its frames reaching a viewer through daphne."""

import asyncio
import hashlib
import io
import os
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import av
import cv2
import numpy as np
import pytest
from av.video.frame import PictureType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.tenancy import account_scope
from devices.consumers import is_jpeg
from devices.tests.conftest import client_for, open_viewer, session_cookie
from nvr.testing import free_port
from recordings.files import CLIP, open_range
from recordings.models import Recording, RecordingStatus
from recordings.upload.client import UploadFailed, upload_clip
from recordings.video.faststart import moov_before_mdat
from recordings.video.motion import analyse
from tools.simulator.clips import MAX_ATTEMPTS, ClipRecorder, http_base_url, write_clip
from tools.simulator.stream import HandshakeRefused, Scene, ServerClosed, encode_jpeg, push

NOON = datetime(2030, 1, 1, 12, 0, 0)


def test_it_renders_the_requested_size():
    image = Scene(640, 360).render(0.0, now=NOON)
    assert image.shape == (360, 640, 3)
    assert image.dtype == np.uint8


def test_it_moves_between_frames_and_is_deterministic_for_a_given_time():
    scene = Scene(640, 360)
    assert not np.array_equal(scene.render(0.0, now=NOON), scene.render(1.0, now=NOON))
    assert np.array_equal(scene.render(1.0, now=NOON), scene.render(1.0, now=NOON))


def test_it_encodes_a_valid_jpeg_of_a_realistic_size():
    data = encode_jpeg(Scene(1280, 720, label="Front door").render(2.5), quality=80)
    assert data.startswith(b"\xff\xd8\xff")
    assert data.endswith(b"\xff\xd9")
    assert is_jpeg(data)
    assert 40_000 <= len(data) <= 200_000
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    assert decoded.shape == (720, 1280, 3)


def test_it_refuses_a_size_that_is_not_width_x_height():
    with pytest.raises(CommandError, match="WIDTHxHEIGHT"):
        call_command("simulate_camera", "--token", "nvr1.x.y.z", "--size", "12x")


@pytest.mark.django_db(transaction=True)
def test_it_streams_to_a_viewer_of_its_household_over_real_sockets(asgi_server, world, cams):
    cookie = session_cookie(client_for(world.a.owner))
    scene = Scene(1280, 720, label="Front door")

    async def scenario() -> tuple[int, list[bytes]]:
        viewer = await open_viewer(asgi_server, cams["a"].camera.pk, cookie)
        camera = asyncio.create_task(
            push(f"{asgi_server.ws}/ws/device/", cams["a"].token, fps=10, scene=scene, seconds=1.5)
        )
        received: list[bytes] = []
        try:
            while True:
                try:
                    frame = await asyncio.wait_for(viewer.recv(), 1.0)
                except TimeoutError:
                    if camera.done():
                        break
                    continue
                received.append(frame)
                await viewer.send("ack")
        finally:
            await viewer.close()
        return await camera, received

    sent, received = asyncio.run(scenario())
    # 15 slots in 1.5 s; the pacer skips a slot it missed (a stalled loop on a busy machine).
    assert 12 <= sent <= 15
    assert 5 <= len(received) <= sent
    for frame in received:
        assert isinstance(frame, bytes)
        assert is_jpeg(frame)
        decoded = cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None
        assert decoded.shape == (720, 1280, 3)


@pytest.mark.django_db(transaction=True)
def test_it_runs_several_cameras_from_the_command(asgi_server, cams):
    out = StringIO()
    call_command(
        "simulate_camera",
        *("--token", cams["a"].token, "--token", cams["b"].token, "--label", "Porch"),
        *("--url", f"{asgi_server.ws}/ws/device/", "--size", "320x240", "--fps", "10", "--seconds", "0.5"),
        *("--clip-every", "0", "--codec", "jpeg"),  # the JPEG path; H.264: test_simulator_h264.py
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Porch: pushing 320x240 at 10 fps (JPEG, quality 80)")
    assert lines[1].startswith("Camera 2: pushing 320x240 at 10 fps")
    # 5 slots in 0.5 s each; a missed slot is skipped, never sent late.
    assert [re.fullmatch(r"(Camera 2|Porch): sent [3-5] frames", line) is not None for line in lines[2:]] == [
        True,
        True,
    ]
    assert {line.split(":")[0] for line in lines[2:]} == {"Camera 2", "Porch"}
    assert cams["a"].token not in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_raises_a_clear_error_when_the_token_is_wrong(asgi_server, cams):
    prefix, account, token_id, secret = cams["a"].token.split(".")
    forged = f"{prefix}.{account}.{token_id}.{'x' * len(secret)}"

    async def scenario() -> None:
        await push(f"{asgi_server.ws}/ws/device/", forged, fps=10, scene=Scene(64, 48), seconds=1)

    with pytest.raises(HandshakeRefused, match="HTTP 403") as refused:
        asyncio.run(scenario())
    assert refused.value.code == 403


@pytest.mark.django_db(transaction=True)
def test_it_raises_the_close_code_when_the_server_closes_the_connection(asgi_server, cams):
    # 80 fps against the server's cap of 30 a second: the server closes with 4429 within about a second.
    async def scenario() -> None:
        await push(f"{asgi_server.ws}/ws/device/", cams["a"].token, fps=80, scene=Scene(64, 48), seconds=3)

    with pytest.raises(ServerClosed, match="4429") as closed:
        asyncio.run(scenario())
    assert closed.value.code == 4429
    assert "rate cap" in str(closed.value)


# --- Clips: recorded as H.264 MP4 and uploaded through the real upload API --------------

CLIP_START = datetime(2030, 1, 1, 12, 0, 0, 250000, tzinfo=UTC)


def upload_once(
    base_url: str,
    token: str,
    path_or_bytes: str | os.PathLike[str] | bytes,
    *,
    started_at: datetime,
    ended_at: datetime,
    idempotency_key: str | None = None,
) -> str:
    """The real upload client without its own retries (a dead server fails at once)."""
    return upload_clip(
        base_url,
        token,
        path_or_bytes,
        started_at=started_at,
        ended_at=ended_at,
        idempotency_key=idempotency_key,
        retries=0,
    )


def decode(data: bytes) -> list[av.VideoFrame]:
    container = av.open(io.BytesIO(data), mode="r")
    try:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        return list(container.decode(stream))
    finally:
        container.close()


def test_it_records_a_camera_like_h264_clip_that_moves_only_in_its_motion_window(tmp_path):
    """No B-frames, a keyframe every 2 s, index first; motion analysis finds the window and nothing else."""
    path = tmp_path / "clip.mp4"
    frames = write_clip(path, Scene(320, 180), started_at=CLIP_START, scene_t=3.0, seconds=5, fps=10, motion=(1.5, 3.0))
    assert frames == 50
    assert moov_before_mdat(path)
    decoded = decode(path.read_bytes())
    assert len(decoded) == 50
    assert {(f.width, f.height) for f in decoded} == {(320, 180)}
    assert [n for n, f in enumerate(decoded) if f.key_frame] == [0, 20, 40]
    assert {f.pict_type for f in decoded} <= {PictureType.I, PictureType.P}  # no B-frames
    analysis = analyse(path)
    assert len(analysis.events) == 1
    event = analysis.events[0]
    assert 1.2 <= event.start_s <= 1.8
    assert 2.8 <= event.end_s <= 3.4


def test_it_uploads_to_the_site_the_camera_streams_to():
    assert http_base_url("ws://127.0.0.1:8000/ws/device/") == "http://127.0.0.1:8000"
    assert http_base_url("wss://nvr.example/ws/device/") == "https://nvr.example"
    with pytest.raises(ValueError, match="ws://"):
        http_base_url("ftp://nvr.example/")


def test_it_keeps_clips_while_the_server_is_down_and_drops_one_refused_too_often(tmp_path, caplog):
    """Each tick retries the backlog with each clip's own key; only 4xx refusals count against a clip."""
    calls: list[str | None] = []
    status: int | None = None  # None: the server could not be reached

    def failing(base_url: str, token: str, path_or_bytes: object, **kwargs: Any) -> str:
        calls.append(kwargs["idempotency_key"])
        raise UploadFailed("The token is not valid." if status else "Gave up after 5 retries.", status)

    recorder = ClipRecorder(
        "http://127.0.0.1:9", "t", Scene(64, 48), every=1, seconds=1, fps=5, folder=tmp_path, uploader=failing
    )
    assert recorder.tick(ended_at=CLIP_START, scene_t=0) == 0
    assert recorder.tick(ended_at=CLIP_START + timedelta(seconds=1), scene_t=1) == 0
    first, second = recorder.backlog
    assert first.idempotency_key != second.idempotency_key
    assert first.path.exists()
    assert second.path.exists()
    assert "retrying later" in caplog.text
    for _ in range(MAX_ATTEMPTS + 2):
        recorder.flush()
    assert list(recorder.backlog) == [first, second]  # a server that is down loses nothing
    assert set(calls) == {first.idempotency_key}  # and the second waits its turn
    status = 401
    calls.clear()
    for _ in range(MAX_ATTEMPTS):
        recorder.flush()
    assert calls == [first.idempotency_key, second.idempotency_key] * MAX_ATTEMPTS
    assert not recorder.backlog
    assert not first.path.exists()
    assert not second.path.exists()
    assert "giving up" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_uploads_a_clip_that_becomes_a_recording_of_its_camera_with_its_times(asgi_server, world, tmp_path):
    """The row has the token's camera and the declared span; the stored copy decrypts to the same playable MP4."""
    camera = world.a.cameras[0]
    recorder = ClipRecorder(
        asgi_server.http,
        world.a.tokens[0],
        Scene(320, 180),
        every=2,
        seconds=2,
        fps=10,
        folder=tmp_path,
        uploader=upload_once,
    )
    ended_at = datetime.now(UTC).replace(microsecond=123456)
    clip = recorder.record(ended_at=ended_at, scene_t=0.0)
    original = clip.path.read_bytes()
    assert recorder.flush() == 1
    [recording_id] = recorder.uploaded
    assert not recorder.backlog
    assert not clip.path.exists()
    with account_scope(world.a.account.pk):
        recording = Recording.objects.get(pk=recording_id)
        stored = b"".join(open_range(recording, kind=CLIP, start=0, end_inclusive=recording.size_bytes - 1))
    assert recording.camera_id == camera.pk
    assert recording.account_id == world.a.account.pk
    assert recording.started_at == ended_at - timedelta(seconds=2)
    assert recording.ended_at == ended_at
    assert recording.idempotency_key == clip.idempotency_key
    assert recording.status in {RecordingStatus.UPLOADED, RecordingStatus.PROCESSING, RecordingStatus.READY}
    assert hashlib.sha256(stored).hexdigest() == recording.sha256
    assert stored == original
    assert len(decode(stored)) == 20
    with account_scope(world.b.account.pk):
        assert not Recording.objects.filter(pk=recording_id).exists()


@pytest.mark.usefixtures("world_with_clips")
@pytest.mark.django_db(transaction=True)
def test_it_retries_a_clip_the_server_could_not_take_without_making_a_second_recording(
    asgi_server, world, tmp_path, caplog
):
    """Server down, then a refused token: logged, kept; later the same clip goes up once, even if sent twice."""
    recorder = ClipRecorder(
        f"http://127.0.0.1:{free_port()}",
        world.a.tokens[0],
        Scene(160, 96),
        every=1,
        seconds=1,
        fps=5,
        folder=tmp_path,
        uploader=upload_once,
    )
    ended_at = datetime.now(UTC)
    assert recorder.tick(ended_at=ended_at, scene_t=0.0) == 0  # nobody listens on that port
    [clip] = recorder.backlog
    data = clip.path.read_bytes()
    recorder.base_url = asgi_server.http
    recorder.token = forged(world.a.tokens[0])
    assert recorder.flush() == 0
    assert "retrying later" in caplog.text
    assert clip.attempts == 1  # one refusal; the unreachable server did not count
    recorder.token = world.a.tokens[0]
    assert recorder.flush() == 1
    # The answer to a completed upload lost on the way: the camera sends the clip again with the same key.
    again = upload_once(
        asgi_server.http,
        world.a.tokens[0],
        data,
        started_at=clip.started_at,
        ended_at=clip.ended_at,
        idempotency_key=clip.idempotency_key,
    )
    assert again == recorder.uploaded[0]
    with account_scope(world.a.account.pk):
        assert Recording.objects.filter(camera=world.a.cameras[0], idempotency_key=clip.idempotency_key).count() == 1
        assert Recording.objects.count() == len(world.a.recordings) + 1


@pytest.mark.django_db(transaction=True)
def test_it_uploads_clips_from_the_command_while_it_streams(asgi_server, world):
    out = StringIO()
    call_command(
        "simulate_camera",
        *("--token", world.a.tokens[0], "--label", "Porch", "--url", f"{asgi_server.ws}/ws/device/"),
        *("--size", "160x120", "--fps", "5", "--seconds", "2.5", "--codec", "jpeg"),
        *("--clip-every", "2", "--clip-seconds", "1", "--clip-size", "160x96", "--clip-fps", "5"),
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert f"Porch: uploading a 1 s 160x96 clip every 2 s to {asgi_server.http}" in lines
    assert "Porch: uploaded 1 clips" in lines
    with account_scope(world.a.account.pk):
        [recording] = Recording.objects.filter(camera=world.a.cameras[0], idempotency_key__startswith="sim-")
    assert recording.ended_at - recording.started_at == timedelta(seconds=1)
    assert timezone.now() - timedelta(seconds=30) < recording.started_at < timezone.now()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--clip-every", "5", "--clip-seconds", "8"), "at most --clip-every"),
        (("--clip-size", "161x90"), "even numbers"),
        (("--clip-fps", "0"), "--clip-fps"),
        (("--clip-size", "big"), "--clip-size must be WIDTHxHEIGHT"),
    ],
)
def test_it_refuses_clip_options_it_cannot_honour(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_camera", "--token", "nvr1.x.y.z", *args)


def forged(token: str) -> str:
    prefix, account, token_id, secret = token.split(".")
    return f"{prefix}.{account}.{token_id}.{'x' * len(secret)}"
