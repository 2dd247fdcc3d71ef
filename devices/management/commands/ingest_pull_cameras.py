"""``manage.py ingest_pull_cameras``: the worker that reads every household's pull cameras."""

import asyncio
import dataclasses
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.ingest import IngestConfig, run_all


class Command(BaseCommand):
    help = (
        "Read every enabled pull camera (RTSP, HTTP, MJPEG) of every household and publish its frames "
        "to live viewers, until SIGINT or SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-fps",
            type=float,
            default=None,
            help="At most this many frames a second per camera (default: the INGEST_MAX_FPS setting).",
        )
        parser.add_argument(
            "--reload",
            type=float,
            default=10.0,
            help="Seconds between two readings of the camera list (default %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        max_fps, reload_seconds = options["max_fps"], options["reload"]
        if (max_fps is not None and not max_fps > 0) or not reload_seconds > 0:
            raise CommandError("--max-fps and --reload must be positive.")
        try:
            config = IngestConfig.from_settings()
        except ValueError as error:
            raise CommandError(f"INGEST_* settings: {error}") from None
        if max_fps is not None:
            config = dataclasses.replace(config, max_fps=max_fps)
        asyncio.run(self.serve(config, reload_seconds=reload_seconds))

    async def serve(self, config: IngestConfig, *, reload_seconds: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for signum in signals:
            loop.add_signal_handler(signum, stop.set)
        try:
            await run_all(config, reload_seconds=reload_seconds, stop=stop)
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
