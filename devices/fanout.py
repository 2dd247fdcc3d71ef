"""Live video inside one process: frames from the channel layer to each viewer's socket.

A camera's frames cross processes once per process: the publisher sends each
frame once to the camera's channel-layer group (``devices.groups.live_group``),
and each process that has viewers of that camera holds exactly one
subscription to it, whatever its number of viewers. Inside the process the hub
hands each frame to each viewer's ``ViewerSlot``.

Two kinds of frames travel: JPEG pictures, each one whole, and H.264 as fragmented
MP4 (``devices.fmp4``), where a picture needs the ones before it back to a
keyframe. A slot never queues more than that: for JPEG it keeps only the newest
frame; for MP4 the pictures since the last keyframe, and a slow viewer skips ahead
to the newest keyframe instead of falling further behind. A viewer has at most
``credits`` messages unacknowledged (the browser acks each one it has drawn or
appended), so the server never writes faster than the viewer reads, whatever the
ASGI server does with its own write buffer. One slow viewer never delays another:
each slot sends from its own task.

A viewer joining late starts at once: each process's hub keeps the camera's
current group of pictures (from its last keyframe), and a process that subscribes
asks the publisher (``GopKeeper``) for it.

Before a frame is handed to a slot, its camera and household are compared
with the slot's: a mismatch is counted and dropped, never sent.
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer

from devices.fmp4 import Fragment
from devices.groups import GROUP_RENEW_SECONDS, live_group, live_source_group

logger = logging.getLogger("nvr.live")

FRAME_MESSAGE = "live.frame"
STATUS_MESSAGE = "live.status"
REPLAY_MESSAGE = "live.replay"  # a process that subscribes asks for the current group of pictures
GOP_MESSAGE = "live.gop"  # the answer, to that process's channel
JPEG, MP4 = "jpeg", "mp4"
# Bounds on a group of pictures kept (by publishers and hubs) and queued (per viewer): a
# camera with a keyframe every few seconds fits; one beyond waits for its next keyframe.
MAX_GOP_BYTES = 8 * 1024 * 1024
MAX_GOP_FRAMES = 600
# A viewer who cannot play MP4 is told so once its camera has sent only MP4 for this long.
UNPLAYABLE_AFTER_S = 3.0
# A kept group of pictures whose newest arrived longer ago than this is not handed to a
# joiner: its camera stopped (a process that died says nothing), and it would look live.
GOP_FRESH_S = 2.0


@dataclass(frozen=True)
class LiveFrame:
    """A frame as it travels: ``data`` the same bytes object for every viewer."""

    format: str
    data: bytes
    key: bool = True
    stream: str = ""
    seq: int = 0
    init: bytes = b""
    codec: str = ""  # MP4: "h264" or "hevc"
    fallback: str = ""  # JPEG made only for viewers who cannot play the camera's MP4 of this codec

    def message(self, camera_id: uuid.UUID, account_id: uuid.UUID) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": FRAME_MESSAGE,
            "camera": camera_id.hex,
            "account": account_id.hex,
            "ts": time.time(),
            "format": self.format,
            "frame": self.data,
        }
        if self.format == MP4:
            message.update(key=self.key, stream=self.stream, seq=self.seq, init=self.init, codec=self.codec)
        elif self.fallback:
            message["fallback"] = self.fallback
        return message

    @classmethod
    def parse(cls, message: dict[str, Any]) -> "LiveFrame":
        kind = message.get("format", JPEG)
        data = message["frame"]
        if not isinstance(data, bytes):
            raise TypeError("frame")
        if kind == MP4:
            return cls(
                MP4,
                data,
                bool(message["key"]),
                str(message["stream"]),
                int(message["seq"]),
                message["init"],
                str(message["codec"]),
            )
        if kind != JPEG:
            raise ValueError(kind)
        return cls(JPEG, data, fallback=str(message.get("fallback") or ""))


def from_fragment(fragment: Fragment) -> LiveFrame:
    return LiveFrame(MP4, fragment.data, fragment.key, fragment.stream, fragment.seq, fragment.init, fragment.family)


async def publish(*, camera_id: uuid.UUID, account_id: uuid.UUID, frame: bytes, fallback: str = "") -> None:
    """Send one JPEG frame of a camera to every process that shows it (``fallback``: made for
    viewers who cannot play the camera's MP4 of that codec)."""
    await publish_frame(camera_id=camera_id, account_id=account_id, frame=LiveFrame(JPEG, frame, fallback=fallback))


async def publish_frame(*, camera_id: uuid.UUID, account_id: uuid.UUID, frame: LiveFrame) -> None:
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(live_group(camera_id), frame.message(camera_id, account_id))


async def publish_status(*, camera_id: uuid.UUID, account_id: uuid.UUID, state: str, message: str = "") -> None:
    """Tell the camera's viewers at once that it went online or offline (their tiles say so)."""
    layer = get_channel_layer()
    assert layer is not None
    event = {"type": STATUS_MESSAGE, "camera": camera_id.hex, "account": account_id.hex, "state": state}
    await layer.group_send(live_group(camera_id), {**event, "message": message[:200]})


class GopKeeper:
    """A publisher's side of MP4 live: publishes each fragment and keeps the current group
    of pictures, which it sends to any process that subscribes later (``replay``)."""

    def __init__(self, *, camera_id: uuid.UUID, account_id: uuid.UUID) -> None:
        self.camera_id = camera_id
        self.account_id = account_id
        self.gop: list[LiveFrame] = []
        self.gop_bytes = 0
        self.published_at = 0.0

    async def publish(self, fragment: Fragment) -> None:
        frame = from_fragment(fragment)
        self.published_at = time.monotonic()
        if frame.key:
            self.gop, self.gop_bytes = [], 0
        if frame.key or self.gop:
            self.gop.append(frame)
            self.gop_bytes += len(frame.data)
            if self.gop_bytes > MAX_GOP_BYTES or len(self.gop) > MAX_GOP_FRAMES:
                self.gop, self.gop_bytes = [], 0  # too long to replay: joiners wait for the next keyframe
        await publish_frame(camera_id=self.camera_id, account_id=self.account_id, frame=frame)

    def reset(self) -> None:
        """The stream ended: nothing to replay."""
        self.gop, self.gop_bytes = [], 0

    async def replay(self, reply_to: str) -> None:
        if not self.gop or not reply_to or time.monotonic() - self.published_at > GOP_FRESH_S:
            return
        layer = get_channel_layer()
        assert layer is not None
        frames = [frame.message(self.camera_id, self.account_id) for frame in self.gop]
        await layer.send(
            reply_to,
            {"type": GOP_MESSAGE, "camera": self.camera_id.hex, "account": self.account_id.hex, "frames": frames},
        )

    async def answer_replays(self) -> None:
        """For a publisher without a consumer's channel (the pull worker): answer replay
        requests from its own channel until cancelled."""
        layer = get_channel_layer()
        assert layer is not None
        channel = await layer.new_channel()
        group = live_source_group(self.camera_id)
        await layer.group_add(group, channel)
        try:
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), timeout=GROUP_RENEW_SECONDS)
                except TimeoutError:
                    await layer.group_add(group, channel)
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("camera %s: replay requests: the channel layer failed; retrying", self.camera_id)
                    await asyncio.sleep(1)
                    continue
                if message.get("type") == REPLAY_MESSAGE:
                    await self.replay(str(message.get("reply_to", "")))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(layer.group_discard(group, channel))


class ViewerSlot:
    """One viewer socket's mailbox: what it will be sent next, and the messages it may
    have in flight. ``mp4``: the viewer plays H.264 in MP4, and ``hevc`` H.265 too (and
    JPEG from cameras that send only that); otherwise JPEG only."""

    def __init__(
        self,
        *,
        camera_id: uuid.UUID,
        account_id: uuid.UUID,
        send: Callable[[bytes], Awaitable[None]],
        credits: int,
        window_bytes: int | None = None,
        jpeg_credits: int | None = None,
        mp4: bool = False,
        hevc: bool = False,
        send_text: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.account_id = account_id
        self.mp4 = mp4
        self.hevc = mp4 and hevc
        self._send = send
        self._send_text = send_text
        self._max_credits = max(1, credits)
        self._window_bytes = window_bytes
        # JPEG frames (from a camera that sends only JPEG) keep their own, tighter limit: a
        # slow viewer then skips to the newest instead of holding many in flight.
        self._jpeg_credits = max(1, jpeg_credits or credits)
        self._inflight: deque[int] = deque()  # sizes of the messages not acknowledged yet
        self._inflight_bytes = 0
        self._latest: bytes | None = None
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._stream = ""  # the init segment the viewer has, or that is queued for it
        self._sent_stream = ""  # the init segment the viewer has
        self._last: tuple[str, int] | None = None  # the last MP4 picture queued: stream, seq
        self._notes: deque[str] = deque(maxlen=4)
        self._mp4_since: float | None = None
        self._told_unplayable = False
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._pump())
        self.sent = 0
        self.skipped = 0

    def plays(self, codec: str) -> bool:
        return self.mp4 and (codec == "h264" or (codec == "hevc" and self.hevc))

    def offer(self, frame: LiveFrame) -> None:
        if frame.format == MP4:
            if self.plays(frame.codec):
                self._offer_mp4(frame)
            else:
                self._cannot_play()
            return
        if frame.fallback and self.plays(frame.fallback):
            return  # made for viewers who cannot play the MP4 this one gets
        self._mp4_since = None
        if self._latest is not None:
            self.skipped += 1  # the viewer had not taken the previous one: newest wins
        self._latest = frame.data
        self._wake.set()

    def _offer_mp4(self, frame: LiveFrame) -> None:
        follows = self._last is not None and self._last == (frame.stream, frame.seq - 1)
        if frame.key:
            self._drop_queue()  # behind by a group of pictures (if any queued): start at the newest
            data = frame.data
            if frame.stream != self._stream:
                data = frame.init + data  # copied once per viewer and stream, not per picture
                self._stream = frame.stream
        elif follows:
            data = frame.data
        else:
            self._last = None  # not decodable without what is missing: wait for a keyframe
            return
        self._queue.append(data)
        self._queued_bytes += len(data)
        self._last = (frame.stream, frame.seq)
        if self._queued_bytes > MAX_GOP_BYTES:
            self._drop_queue()
            self._last = None
            return
        self._wake.set()

    def _drop_queue(self) -> None:
        """Forget what was not sent; an init segment among it is sent again with the next keyframe."""
        if self._queue:
            self.skipped += len(self._queue)
            self._queue.clear()
            self._queued_bytes = 0
            self._stream = self._sent_stream

    def _cannot_play(self) -> None:
        now = time.monotonic()
        if self._mp4_since is None:
            self._mp4_since = now
        elif not self._told_unplayable and now - self._mp4_since >= UNPLAYABLE_AFTER_S:
            self._told_unplayable = True
            self.notify({"type": "status", "state": "unplayable"})

    def notify(self, note: dict[str, Any]) -> None:
        """A small text message (a status), sent before the next frame and needing no credit."""
        if self._send_text is not None:
            self._notes.append(json.dumps(note))
            self._wake.set()

    def ack(self, count: int = 1) -> None:
        """The viewer drew or appended ``count`` more messages (a browser playing MP4 acks in
        batches: one small message back per picture cost the server as much as sending it)."""
        for _ in range(min(count, len(self._inflight))):
            self._inflight_bytes -= self._inflight.popleft()
        self._wake.set()

    def _may_send(self) -> bool:
        """At most ``credits`` messages unacknowledged and, with ``window_bytes``, at most about
        that many bytes (one message always): what a slow viewer can hold up is bounded."""
        limit = self._max_credits if self._queue else min(self._max_credits, self._jpeg_credits)
        if len(self._inflight) >= limit:
            return False
        return self._window_bytes is None or not self._inflight or self._inflight_bytes < self._window_bytes

    def close(self) -> None:
        self._task.cancel()

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._notes and self._send_text is not None:
                await self._send_text(self._notes.popleft())
            while self._may_send() and (self._latest is not None or self._queue):
                if self._queue:
                    # Pictures that piled up go as one message: a joiner's whole group of
                    # pictures in one round trip, not one acknowledgement each.
                    frame = self._queue[0] if len(self._queue) == 1 else b"".join(self._queue)
                    self._queue.clear()
                    self._queued_bytes = 0
                    self._sent_stream = self._stream
                else:
                    assert self._latest is not None
                    frame, self._latest = self._latest, None
                self._inflight.append(len(frame))
                self._inflight_bytes += len(frame)
                await self._send(frame)
                self.sent += 1


@dataclass
class _Feed:
    channel: str
    account_id: uuid.UUID | None = None  # the camera's household: what is kept must be of it
    slots: set[ViewerSlot] = field(default_factory=set)
    task: "asyncio.Task[None] | None" = None
    # The camera's current group of pictures, for viewers who join (from its last keyframe).
    gop: list[LiveFrame] = field(default_factory=list)
    gop_bytes: int = 0
    gop_at: float = 0.0  # when its newest picture arrived
    # Pictures received before any keyframe: they complete a replayed group of pictures.
    early: list[LiveFrame] = field(default_factory=list)
    early_bytes: int = 0

    def remember(self, frame: LiveFrame) -> None:
        if frame.format != MP4:
            return
        self.gop_at = time.monotonic()
        if frame.key:
            self.gop, self.gop_bytes, self.early, self.early_bytes = [], 0, [], 0
        elif not self.gop:
            if len(self.early) < MAX_GOP_FRAMES and self.early_bytes + len(frame.data) <= MAX_GOP_BYTES:
                self.early.append(frame)
                self.early_bytes += len(frame.data)
            return
        elif (self.gop[-1].stream, self.gop[-1].seq + 1) != (frame.stream, frame.seq):
            self.gop, self.gop_bytes = [], 0  # a picture went missing: nothing to replay until a keyframe
            return
        self.gop.append(frame)
        self.gop_bytes += len(frame.data)
        if self.gop_bytes > MAX_GOP_BYTES or len(self.gop) > MAX_GOP_FRAMES:
            self.gop, self.gop_bytes = [], 0

    def adopt(self, frames: list[LiveFrame]) -> list[LiveFrame]:
        """A replayed group of pictures, completed by the pictures that arrived since: what
        waiting viewers get. Ignored once the feed has a keyframe of its own."""
        if self.gop or not frames or not frames[0].key:
            return []
        gop = list(frames)
        for frame in self.early:
            if (frame.stream, frame.seq) == (gop[-1].stream, gop[-1].seq + 1):
                gop.append(frame)
        self.early, self.early_bytes = [], 0
        gop_bytes = sum(len(frame.data) for frame in gop)
        if gop_bytes > MAX_GOP_BYTES or len(gop) > MAX_GOP_FRAMES:
            return []
        self.gop, self.gop_bytes = gop, gop_bytes
        self.gop_at = time.monotonic()
        return gop

    def forget(self) -> None:
        """The camera stopped: nothing of it is shown to a joiner as live."""
        self.gop, self.gop_bytes, self.early, self.early_bytes = [], 0, [], 0

    def current_gop(self) -> list[LiveFrame]:
        return self.gop if time.monotonic() - self.gop_at <= GOP_FRESH_S else []


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
                feed = await self._subscribe(slot.camera_id, slot.account_id)
            feed.slots.add(slot)
            if slot.account_id != feed.account_id:
                self.wrong_socket_frames += 1  # never: a camera has one household
                logger.error("a viewer of camera %s joined with another household's id", slot.camera_id)
            elif slot.mp4:
                for frame in feed.current_gop():  # a joiner starts at the last keyframe, at once
                    slot.offer(frame)

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

    async def _subscribe(self, camera_id: uuid.UUID, account_id: uuid.UUID) -> _Feed:
        layer = get_channel_layer()
        assert layer is not None
        # The default prefix matters: channels-redis multiplexes a process's own
        # channels through one Redis list per prefix, read by whichever task holds
        # its lock; a channel with another prefix would wait behind it.
        feed = _Feed(channel=await layer.new_channel(), account_id=account_id)
        await layer.group_add(live_group(camera_id), feed.channel)
        feed.task = asyncio.get_running_loop().create_task(self._receive(camera_id, feed, layer))
        self._feeds[camera_id] = feed
        # Subscribed first, then asked: pictures published meanwhile arrive on the feed too.
        await layer.group_send(live_source_group(camera_id), {"type": REPLAY_MESSAGE, "reply_to": feed.channel})
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
            kind = message.get("type", FRAME_MESSAGE)
            if kind == STATUS_MESSAGE:
                note = {"type": "status", "state": str(message["state"]), "message": str(message.get("message", ""))}
            elif kind == GOP_MESSAGE:
                replayed = [LiveFrame.parse(frame) for frame in message["frames"]]
                if any((inner["camera"], inner["account"]) != (camera.hex, account.hex) for inner in message["frames"]):
                    raise ValueError("a replayed picture of another camera")
            else:
                frame = LiveFrame.parse(message)
        except (KeyError, TypeError, ValueError):
            logger.warning("dropped a malformed live message for camera %s", camera_id)
            return
        if camera != camera_id or (feed.account_id is not None and account != feed.account_id):
            # Kept for nobody (what a feed keeps goes to joiners), and sent to nobody.
            self.wrong_socket_frames += max(1, len(feed.slots))
            logger.error("dropped a live message of camera %s sent to the feed of camera %s", camera, camera_id)
            return
        if kind == GOP_MESSAGE:
            frames = feed.adopt(replayed)
            if not frames:
                return
        elif kind == STATUS_MESSAGE:
            if note["state"] == "offline":
                feed.forget()
        else:
            frames = [frame]
            feed.remember(frame)
        for slot in feed.slots:
            if slot.camera_id != camera or slot.account_id != account or camera != camera_id:
                self.wrong_socket_frames += 1
                logger.error("dropped a frame of camera %s addressed to a socket of camera %s", camera, slot.camera_id)
                continue
            if kind == STATUS_MESSAGE:
                slot.notify(note)
                continue
            for each in frames:
                slot.offer(each)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub]" = weakref.WeakKeyDictionary()


def get_hub() -> LiveHub:
    """The hub of the running event loop (daphne runs one loop per process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = LiveHub()
    return hub
