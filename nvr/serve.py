"""``python -m nvr.serve [daphne's arguments] nvr.asgi:application``: daphne, and with
``NVR_INGEST_IN_WEB=1`` the pull-camera ingest worker on daphne's own event loop.

The embedded defaults' channel layer lives in one process's memory, so a pull
camera's pictures reach viewers only when its worker runs in the web process: this
is how ``bin/demo`` runs without Redis. With ``REDIS_URL`` (production), run
``manage.py ingest_pull_cameras`` as its own process instead; several web processes
must never each read every camera (the leases would keep all but one waiting, but
each would still start and retry).
"""

import asyncio
import logging
import os
from typing import Any

from daphne.cli import CommandLineInterface

logger = logging.getLogger("nvr.ingest")
STOP_WAIT_SECONDS = 8.0  # the cameras' readers close their files in progress, then daphne exits


def attach_ingest() -> None:
    """Start ``run_all`` once daphne's reactor runs (the application, hence Django, is loaded
    by then), and let shutdown wait for it to stop its cameras."""
    from twisted.internet import defer, reactor

    stop = asyncio.Event()
    task: dict[str, asyncio.Task[None]] = {}

    def start() -> None:
        from devices.ingest import IngestConfig, run_all

        logger.info("reading pull cameras in the web process (NVR_INGEST_IN_WEB)")
        task["ingest"] = asyncio.get_event_loop().create_task(run_all(IngestConfig.from_settings(), stop=stop))

    async def stopped() -> None:
        stop.set()
        if "ingest" in task:
            await asyncio.wait({task["ingest"]}, timeout=STOP_WAIT_SECONDS)

    def before_shutdown() -> Any:
        return defer.Deferred.fromFuture(asyncio.ensure_future(stopped()))

    reactor.callWhenRunning(start)
    # zope interfaces declare methods without self, which mypy reads one argument off.
    reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)  # type: ignore[arg-type]


def main() -> None:
    if os.environ.get("NVR_INGEST_IN_WEB") == "1":
        attach_ingest()
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
