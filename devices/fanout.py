"""Live frames inside one process.

A camera's frames cross processes once per process: the publisher sends each
frame once to the camera's channel-layer group (``devices.groups.live_group``),
and each process that has viewers of that camera holds exactly one
subscription to it, whatever its number of viewers. Inside the process the hub
hands each frame to each viewer's ``ViewerSlot``.

A slot keeps only the newest frame and lets a viewer have at most ``credits``
frames unacknowledged (the browser acks each frame it has drawn). A slow
viewer therefore skips frames; the server never queues more than one frame
per viewer, and never writes faster than the viewer reads, whatever the ASGI
server does with its own write buffer. One slow viewer never delays another:
each slot sends from its own task.

Before a frame is handed to a slot, its camera and household are compared
with the slot's: a mismatch is counted and dropped, never sent.
"""

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer

from devices.groups import GROUP_RENEW_SECONDS, live_group

logger = logging.getLogger("nvr.live")

FRAME_MESSAGE = "live.frame"


async def publish(*, camera_id: uuid.UUID, account_id: uuid.UUID, frame: bytes) -> None:
    """Send one frame of a camera to every process that shows it."""
    layer = get_channel_layer()
    assert layer is not None
    message = {"type": FRAME_MESSAGE, "camera": camera_id.hex, "account": account_id.hex, "ts": time.time()}
    message["frame"] = frame
    await layer.group_send(live_group(camera_id), message)


class ViewerSlot:
    """One viewer socket's mailbox: the newest frame, and the frames it may have in flight."""

    def __init__(
        self, *, camera_id: uuid.UUID, account_id: uuid.UUID, send: Callable[[bytes], Awaitable[None]], credits: int
    ) -> None:
        self.camera_id = camera_id
        self.account_id = account_id
        self._send = send
        self._credits = self._max_credits = max(1, credits)
        self._latest: bytes | None = None
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._pump())
        self.sent = 0
        self.skipped = 0

    def offer(self, frame: bytes) -> None:
        if self._latest is not None:
            self.skipped += 1  # the viewer had not taken the previous one: newest wins
        self._latest = frame
        self._wake.set()

    def ack(self) -> None:
        self._credits = min(self._max_credits, self._credits + 1)
        self._wake.set()

    def close(self) -> None:
        self._task.cancel()

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._credits > 0 and self._latest is not None:
                frame, self._latest = self._latest, None
                self._credits -= 1
                await self._send(frame)
                self.sent += 1


@dataclass
class _Feed:
    channel: str
    slots: set[ViewerSlot] = field(default_factory=set)
    task: "asyncio.Task[None] | None" = None


class LiveHub:
    """This process's viewers, by camera. One per event loop (see ``get_hub``)."""

    def __init__(self) -> None:
        self._feeds: dict[uuid.UUID, _Feed] = {}
        self._lock = asyncio.Lock()
        self.wrong_socket_frames = 0

    async def attach(self, slot: ViewerSlot) -> None:
        async with self._lock:
            feed = self._feeds.get(slot.camera_id)
            if feed is None:
                feed = await self._subscribe(slot.camera_id)
            feed.slots.add(slot)

    async def detach(self, slot: ViewerSlot) -> None:
        slot.close()
        async with self._lock:
            feed = self._feeds.get(slot.camera_id)
            if feed is None:
                return
            feed.slots.discard(slot)
            if not feed.slots:
                await self._unsubscribe(slot.camera_id, feed)

    def viewers(self, camera_id: uuid.UUID) -> int:
        feed = self._feeds.get(camera_id)
        return len(feed.slots) if feed else 0

    async def _subscribe(self, camera_id: uuid.UUID) -> _Feed:
        layer = get_channel_layer()
        assert layer is not None
        # The default prefix matters: channels-redis multiplexes a process's own
        # channels through one Redis list per prefix, read by whichever task holds
        # its lock; a channel with another prefix would wait behind it.
        feed = _Feed(channel=await layer.new_channel())
        await layer.group_add(live_group(camera_id), feed.channel)
        feed.task = asyncio.get_running_loop().create_task(self._receive(camera_id, feed, layer))
        self._feeds[camera_id] = feed
        return feed

    async def _unsubscribe(self, camera_id: uuid.UUID, feed: _Feed) -> None:
        del self._feeds[camera_id]
        if feed.task is not None:
            feed.task.cancel()
        layer = get_channel_layer()
        assert layer is not None
        await layer.group_discard(live_group(camera_id), feed.channel)

    async def _receive(self, camera_id: uuid.UUID, feed: _Feed, layer: Any) -> None:
        """Read the camera's frames for this process, for as long as it has viewers.

        Survives the layer's hiccups (a Redis reconnect must not leave every
        viewer of the camera on a dead feed), and renews the group membership,
        which the layers expire after a day, even while the camera is silent.
        """
        group = live_group(camera_id)
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(feed.channel), timeout=GROUP_RENEW_SECONDS)
            except TimeoutError:
                await layer.group_add(group, feed.channel)
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live frames of camera %s: the channel layer failed; retrying", camera_id)
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await layer.group_add(group, feed.channel)
                continue
            self.dispatch(camera_id, feed, message)

    def dispatch(self, camera_id: uuid.UUID, feed: _Feed, message: dict[str, Any]) -> None:
        try:
            camera = uuid.UUID(hex=message["camera"])
            account = uuid.UUID(hex=message["account"])
            frame = message["frame"]
        except (KeyError, TypeError, ValueError):
            logger.warning("dropped a malformed live message for camera %s", camera_id)
            return
        for slot in feed.slots:
            if slot.camera_id != camera or slot.account_id != account or camera != camera_id:
                self.wrong_socket_frames += 1
                logger.error("dropped a frame of camera %s addressed to a socket of camera %s", camera, slot.camera_id)
                continue
            slot.offer(frame)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub]" = weakref.WeakKeyDictionary()


def get_hub() -> LiveHub:
    """The hub of the running event loop (daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LiveHub()
    return hub
