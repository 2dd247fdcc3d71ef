"""Simulated cameras record short H.264 clips and upload them through the real upload API.

``write_clip`` encodes the simulator's street scene (``tools.simulator.stream.Scene``)
as a camera would: H.264 from PyAV's bundled libx264, yuv420p, no B-frames, a
keyframe every 2 s, the index (``moov``) at the front. Outside a clip's motion
window the scene is frozen (only the clock overlay ticks), so the processing
pipeline finds motion in part of the clip, not all of it.

``ClipRecorder`` runs beside the live stream: every ``every`` seconds it
encodes the last ``seconds`` seconds (their real wall-clock span) and uploads
the clip with ``recordings.upload.client.upload_clip`` (tus, the device token).
Encoding and upload run in a worker thread so live frames keep their pace.
A clip whose upload fails (server down, or refused with a 4xx) stays in a
small backlog on disk and is retried on later ticks with the same idempotency
key, so a retry after a lost response never makes a second recording.
"""

import asyncio
import fractions
import logging
import os
import random
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import urlsplit, urlunsplit

import av
import cv2

from recordings.upload.client import upload_clip
from tools.simulator.stream import Image, Scene

logger = logging.getLogger("nvr.simulator")

DEFAULT_CLIP_EVERY = 60.0
DEFAULT_CLIP_SECONDS = 8.0
DEFAULT_CLIP_FPS = 10
DEFAULT_CLIP_SIZE = (640, 360)
MAX_BACKLOG = 10  # clips kept for retry; the oldest is dropped beyond this
MAX_ATTEMPTS = 5  # a clip refused (HTTP 4xx) this many times is dropped (and logged)


class Uploader(Protocol):
    """``recordings.upload.client.upload_clip``'s signature (tests may pass a fake)."""

    def __call__(
        self,
        base_url: str,
        token: str,
        path_or_bytes: str | os.PathLike[str] | bytes,
        *,
        started_at: datetime,
        ended_at: datetime,
        idempotency_key: str | None = None,
    ) -> str: ...


def http_base_url(ws_url: str) -> str:
    """The site's base URL from the device websocket's: ``ws://host:8000/ws/device/`` -> ``http://host:8000``."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https", "http": "http", "https": "https"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"Not a ws:// or wss:// URL: {ws_url!r}.")
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def write_clip(
    path: str | os.PathLike[str],
    scene: Scene,
    *,
    started_at: datetime,
    scene_t: float,
    seconds: float,
    fps: int = DEFAULT_CLIP_FPS,
    motion: tuple[float, float] | None = None,
) -> int:
    """Encode ``seconds`` of ``scene`` from scene time ``scene_t`` as an H.264 MP4; returns the frame count.

    The overlay shows ``started_at`` + the frame's offset (local time). The
    scene moves only during ``motion`` (seconds into the clip; ``None``: the
    whole clip) and stands still before and after it.
    """
    if scene.width % 2 or scene.height % 2:
        raise ValueError(f"H.264 in yuv420p needs even dimensions, not {scene.width}x{scene.height}.")
    if not seconds > 0 or fps <= 0:
        raise ValueError("seconds and fps must be positive.")
    start_s, end_s = motion if motion is not None else (0.0, seconds)
    frames = max(1, round(seconds * fps))
    local_start = started_at.astimezone()
    time_base = fractions.Fraction(1, fps)
    with av.open(os.fspath(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
        stream.codec_context.gop_size = 2 * fps
        stream.codec_context.max_b_frames = 0
        # One encoder thread: the demo machine has 2 cores and the live stream needs them.
        stream.codec_context.options = {"preset": "veryfast", "threads": "1"}
        for index in range(frames):
            offset = index / fps
            moving = min(max(offset, start_s), end_s)  # frozen outside the motion window
            image = scene.render(scene_t + moving, now=local_start + timedelta(seconds=offset))
            planes = cast(Image, cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420))
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts, frame.time_base = index, time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return frames


@dataclass
class PendingClip:
    path: Path
    started_at: datetime
    ended_at: datetime
    idempotency_key: str
    attempts: int = 0


def idempotency_key(started_at: datetime) -> str:
    """Unique per camera (the server scopes keys to the camera), stable across retries."""
    return "sim-" + started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


class ClipRecorder:
    """Records and uploads a camera's clips; see the module's docstring."""

    def __init__(
        self,
        base_url: str,
        token: str,
        scene: Scene,
        *,
        every: float = DEFAULT_CLIP_EVERY,
        seconds: float = DEFAULT_CLIP_SECONDS,
        fps: int = DEFAULT_CLIP_FPS,
        folder: str | os.PathLike[str] | None = None,
        uploader: Uploader | None = None,
        seed: int = 0,
    ) -> None:
        if not seconds > 0 or not every >= seconds:
            raise ValueError(f"A clip of {seconds:g} s every {every:g} s: need 0 < seconds <= every.")
        self.base_url = base_url
        self.token = token
        self.scene = scene
        self.every = every
        self.seconds = seconds
        self.fps = fps
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="nvr-sim-clips-"))
        self.uploader: Uploader = uploader or upload_clip
        self._rng = random.Random(seed)  # noqa: S311  (where motion happens, not a secret)
        self.backlog: deque[PendingClip] = deque()
        self.uploaded: list[str] = []  # recording ids, in order

    def motion_window(self) -> tuple[float, float]:
        """Where the scene moves in the next clip: 30-60% of it, somewhere in the middle."""
        length = self.seconds * self._rng.uniform(0.3, 0.6)
        start = self._rng.uniform(0.1 * self.seconds, 0.9 * self.seconds - length)
        return round(start, 2), round(start + length, 2)

    def record(self, *, ended_at: datetime, scene_t: float) -> PendingClip:
        """Encode the clip that ends at ``ended_at`` (scene time ``scene_t`` at its start) into the backlog."""
        started_at = ended_at - timedelta(seconds=self.seconds)
        self.folder.mkdir(parents=True, exist_ok=True)
        key = idempotency_key(started_at)
        path = self.folder / f"{key}.mp4"
        try:
            write_clip(
                path,
                self.scene,
                started_at=started_at,
                scene_t=scene_t,
                seconds=self.seconds,
                fps=self.fps,
                motion=self.motion_window(),
            )
        except BaseException:
            path.unlink(missing_ok=True)  # no half-written clip left behind
            raise
        clip = PendingClip(path=path, started_at=started_at, ended_at=ended_at, idempotency_key=key)
        self.backlog.append(clip)
        while len(self.backlog) > MAX_BACKLOG:
            dropped = self.backlog.popleft()
            dropped.path.unlink(missing_ok=True)
            logger.warning(
                "camera %s: dropped clip %s, too many waiting to upload.", self.scene.label, dropped.idempotency_key
            )
        return clip

    def flush(self) -> int:
        """Upload the backlog, oldest first; returns how many went. Never raises for a failed upload.

        A refusal (an HTTP 4xx: bad token, disabled camera, a clip the server
        rejects) counts against that clip, which is dropped after
        ``MAX_ATTEMPTS``; the next clip is tried at once. Anything else (server
        down or failing) stops this flush and keeps every clip for the next tick,
        up to ``MAX_BACKLOG`` clips.
        """
        done = 0
        for clip in list(self.backlog):
            try:
                recording_id = self.uploader(
                    self.base_url,
                    self.token,
                    clip.path,
                    started_at=clip.started_at,
                    ended_at=clip.ended_at,
                    idempotency_key=clip.idempotency_key,
                )
            except Exception as error:  # whatever the client raises, the camera keeps running
                status = getattr(error, "status", None)
                refused = isinstance(status, int) and 400 <= status < 500
                clip.attempts += 1 if refused else 0
                if refused and clip.attempts >= MAX_ATTEMPTS:
                    self._forget(clip)
                    logger.error(
                        "camera %s: giving up on clip %s, refused %d times: %s",
                        self.scene.label,
                        clip.idempotency_key,
                        clip.attempts,
                        error,
                    )
                else:
                    logger.warning(
                        "camera %s: upload of clip %s failed (%s); retrying later.",
                        self.scene.label,
                        clip.idempotency_key,
                        error,
                    )
                if refused:
                    continue
                break  # the server is down or failing: keep the order, try again next tick
            self._forget(clip)
            self.uploaded.append(recording_id)
            done += 1
            logger.info(
                "camera %s: uploaded clip %s as recording %s", self.scene.label, clip.idempotency_key, recording_id
            )
        return done

    def _forget(self, clip: PendingClip) -> None:
        self.backlog.remove(clip)
        clip.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the clips still waiting (and the folder, if the recorder made it)."""
        while self.backlog:
            self.backlog.popleft().path.unlink(missing_ok=True)
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def tick(self, *, ended_at: datetime, scene_t: float) -> int:
        """Record one clip and upload the backlog (blocking: run it in a thread)."""
        try:
            self.record(ended_at=ended_at, scene_t=scene_t)
        except Exception:  # an encoder failure must not end the live stream either
            logger.exception("camera %s: could not encode a clip", self.scene.label)
        return self.flush()

    async def run(self, *, started: float, seconds: float | None = None) -> int:
        """Record a clip every ``every`` s (the first ``self.seconds`` after ``started``, a ``time.monotonic()``).

        Runs until ``seconds`` after ``started`` (forever if None); returns how many clips were uploaded.
        """
        uploaded = 0
        due = started + self.seconds
        while seconds is None or due - started <= seconds:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            ended_at = datetime.now(UTC)
            uploaded += await asyncio.to_thread(self.tick, ended_at=ended_at, scene_t=due - started - self.seconds)
            due += self.every
            if due < time.monotonic():  # fell behind (slow machine): skip to the next slot in the future
                due += self.every * ((time.monotonic() - due) // self.every + 1)
        return uploaded
