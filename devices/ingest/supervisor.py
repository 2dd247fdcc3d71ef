"""Which cameras run: every household's enabled pull cameras, followed as they change.

``run_all`` reads the list every ``reload_seconds`` and starts, stops or
restarts each camera's loop (``devices.ingest.worker.run_camera``) to match: a
camera whose address or recording plan changed restarts with the new one. The
recorder registered by ``recordings`` (``devices.extensions.pull_recorder``), if
any, gives each camera's plan and lease.
"""

import asyncio
import logging
import traceback
import uuid
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.utils.translation import gettext_noop

from accounts.crypto import InvalidToken
from accounts.tenancy import account_scope, unscoped
from devices.extensions import PullRecorder, RecordPlan, pull_recorder
from devices.ingest.config import IngestConfig
from devices.ingest.redaction import scrub
from devices.ingest.worker import RELEASE_WAIT_SECONDS, holder_name, remove_stale_folders, run_camera
from devices.models import Camera, CameraKind, CameraStatus
from devices.services import camera_source_url
from devices.status import report_in_scope

logger = logging.getLogger("nvr.ingest")

BAD_ADDRESS = gettext_noop("Cannot read the stream address: enter it again")  # translated when shown


@dataclass(frozen=True)
class PullSource:
    camera_id: uuid.UUID
    account_id: uuid.UUID
    url: str = field(repr=False)  # decrypted, credentials included: never printed
    plan: RecordPlan | None = None  # how it is recorded (None: live view only)


@dataclass(frozen=True)
class PullSources:
    sources: dict[uuid.UUID, PullSource]
    unreadable: dict[uuid.UUID, uuid.UUID]  # camera id -> account id, for addresses that do not decrypt


def load_pull_sources(recorder: PullRecorder | None = None) -> PullSources:
    """Every household's enabled pull cameras, with their decrypted addresses and recording
    plans (a system job)."""
    with unscoped("ingest worker: list pull cameras"):
        cameras = list(
            Camera.objects.filter(kind=CameraKind.PULL, enabled=True)
            .exclude(source_url_encrypted="")
            .only("id", "account_id", "source_url_encrypted")
            .order_by("created_at")
        )
    sources: dict[uuid.UUID, PullSource] = {}
    unreadable: dict[uuid.UUID, uuid.UUID] = {}
    for camera in cameras:
        try:
            with account_scope(camera.account_id):
                url = camera_source_url(camera)
        except InvalidToken:
            unreadable[camera.pk] = camera.account_id
            continue
        plan = recorder.plan(camera.pk, camera.account_id) if recorder is not None else None
        sources[camera.pk] = PullSource(camera.pk, camera.account_id, url, plan)
    return PullSources(sources, unreadable)


@dataclass
class _Running:
    source: PullSource
    stop: asyncio.Event
    task: "asyncio.Task[None]"


async def run_all(config: IngestConfig, *, reload_seconds: float = 10, stop: asyncio.Event | None = None) -> None:
    """Read every enabled pull camera until ``stop`` is set (forever without one).

    Every ``reload_seconds`` the list is read again: new cameras start, and
    cameras removed, disabled or given another address stop (and restart with
    the new one).
    """
    if not reload_seconds > 0:
        raise ValueError("reload_seconds must be positive.")
    stop = stop or asyncio.Event()
    stopped = asyncio.get_running_loop().create_task(stop.wait())
    running: dict[uuid.UUID, _Running] = {}
    reported_unreadable: set[uuid.UUID] = set()
    recorder = pull_recorder()
    holder = holder_name()  # this worker, in the leases
    if removed := remove_stale_folders(config):
        logger.info("ingest worker: removed %d unfinished record folders of stopped workers", removed)
    logger.info("ingest worker: started (at most %g frames a second per camera)", config.max_fps)
    try:
        while not stop.is_set():
            try:
                loaded: PullSources | None = await database_sync_to_async(load_pull_sources)(recorder)
            except Exception as error:
                logger.warning("ingest worker: cannot list the pull cameras, keeping the current ones: %r", error)
                loaded = None
            if loaded is not None:
                await _follow(running, loaded.sources, stop, config, recorder, holder)
                await _report_unreadable(loaded.unreadable, reported_unreadable)
            await asyncio.wait({stopped}, timeout=reload_seconds)
    finally:
        stopped.cancel()
        await asyncio.gather(*(_stop(camera_id, entry) for camera_id, entry in running.items()))
        logger.info("ingest worker: stopped")


async def _follow(
    running: dict[uuid.UUID, _Running],
    wanted: dict[uuid.UUID, PullSource],
    stop: asyncio.Event,
    config: IngestConfig,
    recorder: PullRecorder | None,
    holder: str,
) -> None:
    ending: dict[uuid.UUID, _Running] = {}
    for camera_id, entry in list(running.items()):
        if entry.task.done():
            _log_crash(camera_id, entry)
            del running[camera_id]
        elif wanted.get(camera_id) != entry.source:
            ending[camera_id] = running.pop(camera_id)
    await asyncio.gather(*(_stop(camera_id, entry) for camera_id, entry in ending.items()))
    for camera_id, source in wanted.items():
        if camera_id in running or stop.is_set():
            continue
        camera_stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(
            run_camera(
                camera_id,
                source.account_id,
                source.url,
                config=config,
                stop=camera_stop,
                recorder=recorder,
                plan=source.plan,
                holder=holder,
            ),
            name=f"ingest {camera_id}",
        )
        running[camera_id] = _Running(source, camera_stop, task)


async def _stop(camera_id: uuid.UUID, entry: _Running) -> None:
    entry.stop.set()
    try:
        await asyncio.wait_for(asyncio.shield(entry.task), RELEASE_WAIT_SECONDS + 10)
    except TimeoutError:
        logger.warning("camera %s: did not stop in time; cancelled", camera_id)
        entry.task.cancel()
    except Exception:
        _log_crash(camera_id, entry)


def _log_crash(camera_id: uuid.UUID, entry: _Running) -> None:
    if entry.task.cancelled():
        return
    error = entry.task.exception()
    if error is not None:
        text = scrub("".join(traceback.format_exception(error)), entry.source.url)
        logger.error("camera %s: its reader failed and restarts at the next reload:\n%s", camera_id, text)


async def _report_unreadable(unreadable: dict[uuid.UUID, uuid.UUID], reported: set[uuid.UUID]) -> None:
    """Say once per camera that its address does not decrypt (another master key?)."""
    for camera_id, account_id in unreadable.items():
        if camera_id in reported:
            continue
        logger.error("camera %s: its stream address cannot be decrypted (was NVR_MASTER_KEY changed?)", camera_id)
        try:
            await database_sync_to_async(report_in_scope)(
                camera_id=camera_id, account_id=account_id, status=CameraStatus.ERROR, message=BAD_ADDRESS
            )
        except Exception as error:
            logger.warning("camera %s: cannot save its status: %r", camera_id, error)
            continue
        reported.add(camera_id)
    reported &= set(unreadable)
