"""``manage.py ingest_pull_cameras``: the worker that reads every household's pull cameras."""

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.ingest import DEFAULT_MAX_FPS, run_all


class Command(BaseCommand):
    help = (
        "Read every enabled pull camera (RTSP, HTTP, MJPEG) of every household and publish its frames "
        "to live viewers, until SIGINT or SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-fps",
            type=float,
            default=DEFAULT_MAX_FPS,
            help="At most this many frames a second per camera (default %(default)s).",
        )
        parser.add_argument(
            "--reload",
            type=float,
            default=10.0,
            help="Seconds between two readings of the camera list (default %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        max_fps, reload_seconds = options["max_fps"], options["reload"]
        if max_fps <= 0 or reload_seconds <= 0:
            raise CommandError("--max-fps and --reload must be positive.")
        asyncio.run(self.serve(max_fps=max_fps, reload_seconds=reload_seconds))

    async def serve(self, *, max_fps: float, reload_seconds: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for signum in signals:
            loop.add_signal_handler(signum, stop.set)
        try:
            await run_all(reload_seconds=reload_seconds, max_fps=max_fps, stop=stop)
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
