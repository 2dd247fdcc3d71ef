"""Simulated push cameras: ``manage.py simulate_camera --token TOKEN [--token TOKEN2 ...]``.

Each camera streams live frames to the device websocket and, every
``--clip-every`` seconds, uploads a ``--clip-seconds`` H.264 clip through the
upload API; ``--clip-every 0`` turns clips off. A thin wrapper: the cameras
are ``tools.simulator`` (development tooling, not part of the app).
"""

import asyncio
import re
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
from tools.simulator.run import run_cameras
from tools.simulator.stream import DEFAULT_QUALITY, PushError, Scene

SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*$")
MIN_SIDE, MAX_SIDE = 16, 4096


def parse_size(value: str, *, option: str = "--size") -> tuple[int, int]:
    """``"1280x720"`` as ``(1280, 720)``; a readable CommandError otherwise."""
    match = SIZE.match(value)
    if match is None:
        raise CommandError(f"{option} must be WIDTHxHEIGHT in pixels, e.g. 1280x720; got {value!r}.")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise CommandError(f"{option} must be between {MIN_SIDE} and {MAX_SIDE} pixels a side; got {value!r}.")
    return width, height


class Command(BaseCommand):
    help = "Run simulated push cameras: each token streams a moving scene as JPEG frames to the device websocket."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--token", action="append", required=True, help="A camera's device token (repeat for more cameras)."
        )
        parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/device/", help="The device websocket URL.")
        parser.add_argument("--fps", type=float, default=10.0, help="Frames a second (default 10).")
        parser.add_argument("--size", default="1280x720", help="Frame size, WIDTHxHEIGHT (default 1280x720).")
        parser.add_argument("--quality", type=int, default=DEFAULT_QUALITY, help="JPEG quality 1-100 (default 80).")
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
        quality: int = options["quality"]
        seconds: float | None = options["seconds"]
        url: str = options["url"]
        if not fps > 0:
            raise CommandError(f"--fps must be positive; got {fps}.")
        if not 1 <= quality <= 100:
            raise CommandError(f"--quality must be between 1 and 100; got {quality}.")
        if seconds is not None and not seconds > 0:
            raise CommandError(f"--seconds must be positive; got {seconds}.")
        if len(labels) > len(tokens):
            raise CommandError(f"{len(labels)} --label values for {len(tokens)} --token values: give one per camera.")
        labels += [f"Camera {n}" for n in range(len(labels) + 1, len(tokens) + 1)]
        scenes = [Scene(width, height, label=label, seed=n) for n, label in enumerate(labels)]
        recorders = self._recorders(options, url, tokens, labels)
        for scene in scenes:
            until = f"for {seconds:g} s" if seconds is not None else "until Ctrl-C"
            self.stdout.write(
                f"{scene.label}: pushing {width}x{height} at {fps:g} fps (quality {quality}) to {url} {until}"
            )
        for recorder in recorders:
            scene = recorder.scene
            self.stdout.write(
                f"{scene.label}: uploading a {recorder.seconds:g} s {scene.width}x{scene.height} clip "
                f"every {recorder.every:g} s to {recorder.base_url}"
            )
        try:
            report = asyncio.run(run_cameras(url, tokens, scenes, recorders, fps=fps, quality=quality, seconds=seconds))
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
