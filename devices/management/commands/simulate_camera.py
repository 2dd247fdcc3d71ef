"""Simulated push cameras: ``manage.py simulate_camera --token TOKEN [--token TOKEN2 ...]``.

Each camera streams live frames to the device websocket, H.264 access units
by default (``--codec jpeg`` for JPEGs), and, every
``--clip-every`` seconds, uploads a ``--clip-seconds`` H.264 clip through the
upload API; ``--clip-every 0`` turns clips off. A thin wrapper: the cameras
are ``tools.simulator`` (development tooling, not part of the app).
"""

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tools.simulator.clips import (
    DEFAULT_CLIP_EVERY,
    DEFAULT_CLIP_FPS,
    DEFAULT_CLIP_SECONDS,
    DEFAULT_CLIP_SIZE,
    ClipRecorder,
    http_base_url,
)
from tools.simulator.h264 import DEFAULT_KEYFRAME_EVERY, MAX_BITRATE, MIN_BITRATE, default_bitrate
from tools.simulator.run import run_cameras
from tools.simulator.stream import CODECS, DEFAULT_QUALITY, Codec, PushError, Scene

SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*$")
MIN_SIDE, MAX_SIDE = 16, 4096
REFERENCE_KBITS = default_bitrate(1280, 720) // 1000


def parse_size(value: str, *, option: str = "--size") -> tuple[int, int]:
    """``"1280x720"`` as ``(1280, 720)``; a readable CommandError otherwise."""
    match = SIZE.match(value)
    if match is None:
        raise CommandError(f"{option} must be WIDTHxHEIGHT in pixels, e.g. 1280x720; got {value!r}.")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise CommandError(f"{option} must be between {MIN_SIDE} and {MAX_SIDE} pixels a side; got {value!r}.")
    return width, height


@dataclass(frozen=True, slots=True)
class Encoding:
    """How the cameras encode: ``codec`` and its options (``bitrate`` in bit/s, for H.264 only)."""

    codec: Codec
    quality: int = DEFAULT_QUALITY
    bitrate: int | None = None
    keyframe_every: float = DEFAULT_KEYFRAME_EVERY

    def __str__(self) -> str:
        if self.codec == "jpeg":
            return f"JPEG, quality {self.quality}"
        assert self.bitrate is not None
        return f"H.264, {self.bitrate // 1000} kbit/s, a keyframe every {self.keyframe_every:g} s"


class Command(BaseCommand):
    help = (
        "Run simulated push cameras: each token streams a moving scene to the device websocket "
        "as H.264 (default) or JPEG frames."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--token", action="append", required=True, help="A camera's device token (repeat for more cameras)."
        )
        parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/device/", help="The device websocket URL.")
        parser.add_argument("--fps", type=float, default=10.0, help="Frames a second (default 10).")
        parser.add_argument("--size", default="1280x720", help="Frame size, WIDTHxHEIGHT (default 1280x720).")
        parser.add_argument(
            "--codec",
            choices=CODECS,
            default="h264",
            help="h264 (default): one H.264 access unit a message; jpeg: one JPEG a message.",
        )
        parser.add_argument(
            "--bitrate",
            type=int,
            default=None,
            help=f"H.264 target in kbit/s (default {REFERENCE_KBITS} at 1280x720, scaled with the pixel count).",
        )
        parser.add_argument(
            "--keyframe-every",
            type=float,
            default=None,
            help=f"H.264: seconds from one keyframe to the next (default {DEFAULT_KEYFRAME_EVERY:g}, at most 2).",
        )
        parser.add_argument(
            "--quality", type=int, default=None, help=f"JPEG quality 1-100 (default {DEFAULT_QUALITY})."
        )
        parser.add_argument(
            "--seconds", type=float, default=None, help="Stop after this many seconds (default: run until Ctrl-C)."
        )
        parser.add_argument(
            "--label", action="append", default=[], help="Text shown on the picture, one per --token, in order."
        )
        parser.add_argument(
            "--clip-every",
            type=float,
            default=DEFAULT_CLIP_EVERY,
            help=f"Upload a clip every this many seconds (default {DEFAULT_CLIP_EVERY:g}; 0: no clips).",
        )
        parser.add_argument(
            "--clip-seconds",
            type=float,
            default=DEFAULT_CLIP_SECONDS,
            help=f"Length of each clip in seconds (default {DEFAULT_CLIP_SECONDS:g}).",
        )
        parser.add_argument(
            "--clip-size",
            default="{}x{}".format(*DEFAULT_CLIP_SIZE),
            help="Clip size, WIDTHxHEIGHT, even numbers (default {}x{}).".format(*DEFAULT_CLIP_SIZE),
        )
        parser.add_argument(
            "--clip-fps", type=int, default=DEFAULT_CLIP_FPS, help=f"Clip frames a second (default {DEFAULT_CLIP_FPS})."
        )
        parser.add_argument(
            "--upload-url",
            default=None,
            help="The site's base URL for uploads (default: from --url, e.g. http://127.0.0.1:8000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tokens: list[str] = options["token"]
        labels: list[str] = options["label"]
        width, height = parse_size(options["size"])
        fps: float = options["fps"]
        codec: Codec = options["codec"]
        seconds: float | None = options["seconds"]
        url: str = options["url"]
        if not fps > 0:
            raise CommandError(f"--fps must be positive; got {fps}.")
        encoding = self._encoding(options, codec, width, height)
        if seconds is not None and not seconds > 0:
            raise CommandError(f"--seconds must be positive; got {seconds}.")
        if len(labels) > len(tokens):
            raise CommandError(f"{len(labels)} --label values for {len(tokens)} --token values: give one per camera.")
        labels += [f"Camera {n}" for n in range(len(labels) + 1, len(tokens) + 1)]
        scenes = [Scene(width, height, label=label, seed=n) for n, label in enumerate(labels)]
        recorders = self._recorders(options, url, tokens, labels)
        for scene in scenes:
            until = f"for {seconds:g} s" if seconds is not None else "until Ctrl-C"
            self.stdout.write(f"{scene.label}: pushing {width}x{height} at {fps:g} fps ({encoding}) to {url} {until}")
        for recorder in recorders:
            scene = recorder.scene
            self.stdout.write(
                f"{scene.label}: uploading a {recorder.seconds:g} s {scene.width}x{scene.height} clip "
                f"every {recorder.every:g} s to {recorder.base_url}"
            )
        try:
            report = asyncio.run(
                run_cameras(
                    url,
                    tokens,
                    scenes,
                    recorders,
                    fps=fps,
                    seconds=seconds,
                    codec=encoding.codec,
                    quality=encoding.quality,
                    bitrate=encoding.bitrate,
                    keyframe_every=encoding.keyframe_every,
                )
            )
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
            return
        for recorder, count in zip(recorders, report.clips, strict=True):
            self.stdout.write(f"{recorder.scene.label}: uploaded {count} clips")
        failed = 0
        for scene, result in zip(scenes, report.frames, strict=True):
            if isinstance(result, PushError):
                failed += 1
                self.stderr.write(f"{scene.label}: {result}")
            elif isinstance(result, BaseException):
                raise result
            else:
                self.stdout.write(f"{scene.label}: sent {result} frames")
        if failed:
            raise CommandError(f"{failed} of {len(scenes)} cameras failed.")

    def _encoding(self, options: dict[str, Any], codec: Codec, width: int, height: int) -> Encoding:
        """The options of ``codec``, checked; the other codec's options are refused, not ignored."""
        quality: int | None = options["quality"]
        kbits: int | None = options["bitrate"]
        keyframe_every: float | None = options["keyframe_every"]
        if codec == "jpeg":
            if kbits is not None or keyframe_every is not None:
                raise CommandError("--bitrate and --keyframe-every are for --codec h264; JPEG has --quality.")
            quality = DEFAULT_QUALITY if quality is None else quality
            if not 1 <= quality <= 100:
                raise CommandError(f"--quality must be between 1 and 100; got {quality}.")
            return Encoding(codec, quality=quality)
        if quality is not None:
            raise CommandError("--quality is for --codec jpeg; H.264 has --bitrate (kbit/s).")
        if width % 2 or height % 2:
            raise CommandError(
                f"--size needs even numbers for H.264 (4:2:0 halves both sides); got {options['size']!r}. "
                "Use an even size, or --codec jpeg."
            )
        bitrate = default_bitrate(width, height) if kbits is None else kbits * 1000
        if not MIN_BITRATE <= bitrate <= MAX_BITRATE:
            raise CommandError(
                f"--bitrate must be between {MIN_BITRATE // 1000} and {MAX_BITRATE // 1000} kbit/s; got {kbits}."
            )
        keyframe_every = DEFAULT_KEYFRAME_EVERY if keyframe_every is None else keyframe_every
        if not 0 < keyframe_every <= DEFAULT_KEYFRAME_EVERY:
            raise CommandError(
                f"--keyframe-every must be more than 0 and at most {DEFAULT_KEYFRAME_EVERY:g} seconds "
                f"(the device protocol's longest keyframe interval); got {keyframe_every:g}."
            )
        return Encoding(codec, bitrate=bitrate, keyframe_every=keyframe_every)

    def _recorders(self, options: dict[str, Any], url: str, tokens: list[str], labels: list[str]) -> list[ClipRecorder]:
        every: float = options["clip_every"]
        clip_seconds: float = options["clip_seconds"]
        clip_fps: int = options["clip_fps"]
        if every == 0:
            return []
        if not clip_seconds > 0 or not every >= clip_seconds:
            raise CommandError(
                f"--clip-seconds must be positive and at most --clip-every; got {clip_seconds:g} and {every:g}."
            )
        if not 1 <= clip_fps <= 60:
            raise CommandError(f"--clip-fps must be between 1 and 60; got {clip_fps}.")
        clip_width, clip_height = parse_size(options["clip_size"], option="--clip-size")
        if clip_width % 2 or clip_height % 2:
            raise CommandError(f"--clip-size needs even numbers (H.264); got {options['clip_size']!r}.")
        try:
            base_url = options["upload_url"] or http_base_url(url)
        except ValueError as error:
            raise CommandError(f"--url: {error} Give --upload-url.") from error
        return [
            ClipRecorder(
                base_url.rstrip("/"),
                token,
                Scene(clip_width, clip_height, label=label, seed=n),
                every=every,
                seconds=clip_seconds,
                fps=clip_fps,
                seed=n,
            )
            for n, (token, label) in enumerate(zip(tokens, labels, strict=True))
        ]
