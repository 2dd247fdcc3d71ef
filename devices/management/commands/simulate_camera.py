"""Simulated push cameras: ``manage.py simulate_camera --token TOKEN [--token TOKEN2 ...]``."""

import asyncio
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.simulator import DEFAULT_QUALITY, PushError, Scene, push, push_forever

SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*$")
MIN_SIDE, MAX_SIDE = 16, 4096


def parse_size(value: str) -> tuple[int, int]:
    """``"1280x720"`` as ``(1280, 720)``; a readable CommandError otherwise."""
    match = SIZE.match(value)
    if match is None:
        raise CommandError(f"--size must be WIDTHxHEIGHT in pixels, e.g. 1280x720; got {value!r}.")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise CommandError(f"--size must be between {MIN_SIDE} and {MAX_SIDE} pixels a side; got {value!r}.")
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
        for scene in scenes:
            until = f"for {seconds:g} s" if seconds is not None else "until Ctrl-C"
            self.stdout.write(
                f"{scene.label}: pushing {width}x{height} at {fps:g} fps (quality {quality}) to {url} {until}"
            )
        try:
            asyncio.run(self._run(url, tokens, scenes, fps=fps, quality=quality, seconds=seconds))
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    async def _run(
        self, url: str, tokens: list[str], scenes: list[Scene], *, fps: float, quality: int, seconds: float | None
    ) -> None:
        if seconds is None:
            await asyncio.gather(
                *(
                    push_forever(url, token, fps=fps, scene=scene, quality=quality)
                    for token, scene in zip(tokens, scenes, strict=True)
                )
            )
            return
        results = await asyncio.gather(
            *(
                push(url, token, fps=fps, scene=scene, seconds=seconds, quality=quality)
                for token, scene in zip(tokens, scenes, strict=True)
            ),
            return_exceptions=True,
        )
        failed = 0
        for scene, result in zip(scenes, results, strict=True):
            if isinstance(result, PushError):
                failed += 1
                self.stderr.write(f"{scene.label}: {result}")
            elif isinstance(result, BaseException):
                raise result
            else:
                self.stdout.write(f"{scene.label}: sent {result} frames")
        if failed:
            raise CommandError(f"{failed} of {len(scenes)} cameras failed.")
