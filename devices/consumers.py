"""Websockets: cameras push frames in, viewers watch.

``DeviceConsumer`` (``/ws/device/``): a camera authenticated by its token in an
``Authorization: Bearer`` header (cameras have no cookies and send no Origin).
It sends binary frames, JPEG pictures or H.264 access units (README, "Device
protocol"); a frame that is too large, of neither format (or of the other format
than the socket's first), or over the rate cap closes that connection with a code
saying why, and no other. One socket per token: a newer connection with the same
token closes the older one (4409).

``LiveViewerConsumer`` (``/ws/live/<camera id>/``): a signed-in person, origin
checked, accepted only after the same scoped lookup the pages use. With
``?format=mp4`` (a browser with Media Source Extensions) it receives H.264 as
fragmented MP4 where the camera sends H.264, else JPEG frames; text messages are
the camera's status (JSON). It sends the text ``ack`` after drawing each frame.
"""

import asyncio
import contextlib
import json
import logging
import random
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.auth.client import address_of
from accounts.middleware import ACTIVE_ACCOUNT_SESSION_KEY
from accounts.realtime import member_group, session_group, user_group
from devices import credentials, h264
from devices.fanout import GopKeeper, ViewerSlot, get_hub, publish, publish_status
from devices.fmp4 import TIMESCALE, Fragmenter
from devices.groups import (
    GROUP_RENEW_SECONDS,
    camera_control_group,
    camera_viewer_group,
    device_control_group,
    device_token_group,
    live_source_group,
)
from devices.live import LiveView, end_live_view, start_live_view, still_allowed
from devices.models import CameraStatus
from devices.status import report_in_scope
from devices.unavailable import REDIS_DOWN, run_or_try_again_later

logger = logging.getLogger("nvr.live")

# Close codes (4000-4999 are the application's).
# Access ended: token revoked, camera disabled, deleted or taken from the viewer,
# membership removed, signed out.
CLOSE_REVOKED = 4401
CLOSE_NOT_JPEG = 4400
CLOSE_TOO_LARGE = 4413
CLOSE_TOO_FAST = 4429
# A newer socket opened with the same device token replaced this one.
CLOSE_SUPERSEDED = 4409
# What a viewer may send: "ack" or "ack N", and a few times the frame rate of them (acks are
# per frame or batched): more is a client gone wrong or a flood, closed before it costs memory.
VIEWER_MAX_MESSAGE_CHARS = 16
VIEWER_MESSAGES_PER_FRAME = 4

FORMAT_NAMES = {"jpeg": "a JPEG frame", "h264": "an H.264 access unit"}
JPEG_START = b"\xff\xd8\xff"
JPEG_END = b"\xff\xd9"


def is_jpeg(data: bytes) -> bool:
    return data.startswith(JPEG_START) and data.rstrip(b"\x00").endswith(JPEG_END)


def is_h264(data: bytes) -> bool:
    return data.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01"))


class RateLimit:
    """A token bucket: ``rate`` frames a second, bursts of up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def client_of(scope: dict[str, Any]) -> tuple[str, str]:
    """The client's address (as for HTTP requests: behind our trusted proxies only) and browser."""
    client = scope.get("client") or (None, None)
    headers = dict(scope.get("headers") or [])
    address = address_of(client[0], headers.get(b"x-forwarded-for", b"").decode(errors="replace"))
    return address, headers.get(b"user-agent", b"").decode(errors="replace")


class FrameConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """Channels closes stale database connections before *every* message it
    dispatches, through the one thread all database calls share; for a socket
    that carries 15 frames (or acks) a second per viewer, that queue became the
    bottleneck (bench/README.md). These consumers never touch the ORM in a
    handler directly — every database call goes through ``database_sync_to_async``,
    which closes stale connections itself — so frames and acks skip the hop.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Channels' consumer, except that an unreachable Redis ends the socket with 1013
        instead of an HTTP 500 at the handshake (Channels subscribes before ``connect``)
        or a 1011 mid-stream (``devices.unavailable``)."""
        await run_or_try_again_later(super().__call__, scope, receive, send, cleanup=self.after_layer_failure)

    async def after_layer_failure(self) -> None:
        """Clean up what ``disconnect`` would have, without the channel layer."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
            return
        await super().dispatch(message)

    control_groups: list[str] = []
    guard: "asyncio.Task[None] | None" = None

    async def join_and_guard(self, groups: list[str], still_allowed: Callable[[], Awaitable[bool]]) -> bool:
        """Join the control groups, then check access once more, then keep checking.

        Checking *after* joining closes the race where access ends between the
        first check and the join (that revocation's message would be missed).
        The periodic check is the safety net for access that ends without a
        message, and it renews the group memberships, which the channel layers
        expire after a day.
        """
        self.control_groups = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        if not await still_allowed():
            return False
        self.guard = asyncio.get_running_loop().create_task(self._guard(still_allowed))
        return True

    async def _guard(self, still_allowed: Callable[[], Awaitable[bool]]) -> None:
        interval = settings.LIVE_RECHECK_SECONDS
        renewed = time.monotonic()
        # Spread the checks: sockets opened together would otherwise all query
        # the database in the same instant, every interval.
        await asyncio.sleep(random.uniform(0, interval))  # noqa: S311  (not security)
        while True:
            if not await still_allowed():
                await self.end_access("access ended")
                return
            if time.monotonic() - renewed > GROUP_RENEW_SECONDS:
                for group in self.control_groups:
                    await self.channel_layer.group_add(group, self.channel_name)
                renewed = time.monotonic()
            await asyncio.sleep(interval)

    async def force_disconnect(self, event: dict[str, Any]) -> None:
        """A message to a control group (``close_sockets_on_commit``): access ended."""
        await self.end_access(str(event.get("reason", "access ended")))

    async def end_access(self, reason: str) -> None:
        await self.close(code=CLOSE_REVOKED, reason=reason)

    async def leave(self) -> None:
        if self.guard is not None:
            self.guard.cancel()
        for group in self.control_groups:
            await self.channel_layer.group_discard(group, self.channel_name)


class DeviceConsumer(FrameConsumer):
    """One camera's socket. One per token: each socket joins its token's group, then
    announces itself there with a stamp taken after joining; a socket closes (4409) on
    an announcement newer than its own stamp (time, then channel name, so exactly one
    of any set survives). Stamping after joining means an older socket is always in
    the group when a newer one announces; across hosts this relies on their clocks
    agreeing to within the time it takes to connect."""

    principal: credentials.DevicePrincipal | None = None
    stamp: tuple[int, str] = (0, "")
    superseded = False
    online = False  # reported online: a Redis failure reports it offline (after_layer_failure)
    format = ""  # the socket's first frame decides: "jpeg" or "h264"
    fragmenter: Fragmenter | None = None
    keeper: GopKeeper | None = None

    async def connect(self) -> None:
        headers = dict(self.scope.get("headers") or [])
        raw = credentials.bearer(headers.get(b"authorization", b"").decode(errors="replace"))
        address, _ = client_of(self.scope)
        try:
            self.principal = await database_sync_to_async(credentials.authenticate)(raw, address=address)
        except credentials.TooManyFailures:
            self.principal = None
        if self.principal is None:
            await self.close()  # before accept: the handshake is refused
            return
        principal = self.principal
        token_group = device_token_group(principal.token_id)
        groups = [
            camera_control_group(principal.camera_id),
            device_control_group(principal.camera_id),
            token_group,
            live_source_group(principal.camera_id),
        ]
        if not await self.join_and_guard(groups, lambda: database_sync_to_async(credentials.still_valid)(principal)):
            await self.leave()
            await self.close()
            return
        self.stamp = (time.time_ns(), self.channel_name)
        self.rate = RateLimit(settings.LIVE_MAX_FPS)
        self.frames_since_report = 0
        self.reported_at = time.monotonic()
        self.started = time.monotonic()
        await self.accept()
        await self.report(CameraStatus.ONLINE)
        self.online = True
        await publish_status(camera_id=principal.camera_id, account_id=principal.account_id, state="online")
        await self.channel_layer.group_send(
            token_group, {"type": "device.connected", "at": self.stamp[0], "channel": self.stamp[1]}
        )

    async def device_connected(self, event: dict[str, Any]) -> None:
        """A socket with this token announced itself: if it is newer, this one gives way."""
        if (event["at"], event["channel"]) <= self.stamp:
            return  # this socket's own announcement, or an older socket's (which the newer one closes)
        self.superseded = True
        await self.close(code=CLOSE_SUPERSEDED, reason="A newer connection with this token replaced this one.")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        assert self.principal is not None
        if bytes_data is None:
            if text_data == "ping":
                return
            await self.close(code=CLOSE_NOT_JPEG, reason="Send binary frames: JPEG pictures or H.264 access units.")
            return
        if len(bytes_data) > settings.LIVE_MAX_FRAME_BYTES:
            await self.close(
                code=CLOSE_TOO_LARGE, reason=f"Frames are limited to {settings.LIVE_MAX_FRAME_BYTES} bytes."
            )
            return
        kind = "jpeg" if is_jpeg(bytes_data) else "h264" if is_h264(bytes_data) else ""
        if not kind or (self.format and kind != self.format):
            expected = FORMAT_NAMES.get(self.format, "a JPEG or H.264 frame")
            await self.close(code=CLOSE_NOT_JPEG, reason=f"Not {expected}.")
            return
        self.format = kind
        if not self.rate.allow():
            await self.close(code=CLOSE_TOO_FAST, reason=f"Frames are limited to {settings.LIVE_MAX_FPS} a second.")
            return
        if kind == "h264":
            if not await self.relay_h264(bytes_data):
                return
        else:
            await publish(camera_id=self.principal.camera_id, account_id=self.principal.account_id, frame=bytes_data)
        self.frames_since_report += 1
        elapsed = time.monotonic() - self.reported_at
        if elapsed >= 2:
            fps = self.frames_since_report / elapsed
            self.frames_since_report, self.reported_at = 0, time.monotonic()
            await self.report(CameraStatus.ONLINE, fps)

    async def relay_h264(self, data: bytes) -> bool:
        """Fragment one access unit for viewers, stamped with its arrival (the camera sends no
        B-frames); False if the socket was closed because the bytes are not usable H.264."""
        principal = self.principal
        assert principal is not None
        if self.fragmenter is None or self.keeper is None:
            self.fragmenter = Fragmenter()
            self.keeper = GopKeeper(camera_id=principal.camera_id, account_id=principal.account_id)
        try:
            fragment = self.fragmenter.push(data, dts=round((time.monotonic() - self.started) * TIMESCALE))
        except (ValueError, struct.error) as error:  # h264.BadStream, or what slipped past its checks
            if not isinstance(error, h264.BadStream):
                logger.warning("camera %s: unreadable H.264 (%s)", principal.camera_id, type(error).__name__)
            await self.close(code=CLOSE_NOT_JPEG, reason=str(error)[:120])
            return False
        if fragment is not None:
            await self.keeper.publish(fragment)
        return True

    async def live_replay(self, event: dict[str, Any]) -> None:
        """A process began showing this camera: send it the pictures since the last keyframe."""
        if self.keeper is not None:
            await self.keeper.replay(str(event.get("reply_to", "")))

    async def disconnect(self, code: int) -> None:
        if self.principal is None:
            return
        await self.leave()
        if not self.superseded:  # the newer socket has reported the camera online
            await self.report(CameraStatus.OFFLINE)
            await publish_status(
                camera_id=self.principal.camera_id, account_id=self.principal.account_id, state="offline"
            )

    async def after_layer_failure(self) -> None:
        if self.principal is not None and self.online and not self.superseded:
            await self.report(CameraStatus.OFFLINE)

    async def report(self, status: CameraStatus, fps: float | None = None) -> None:
        assert self.principal is not None
        await database_sync_to_async(report_in_scope)(
            camera_id=self.principal.camera_id, account_id=self.principal.account_id, status=status, fps=fps
        )


class WatchingConsumer(FrameConsumer):
    """A person watching one camera: refused before accept unless ``start_view`` finds a
    view; then the control groups, a check after joining them, and frames through the
    process's hub. Subclasses say who may watch (``start_view``, ``view_allowed``), which
    groups close the socket (``view_groups``) and how the view ends (``end_view``)."""

    view: Any = None
    slot: ViewerSlot | None = None
    viewer_rate: RateLimit | None = None
    plays_mp4 = False  # ?format=mp4: the browser plays H.264 in MP4 (Media Source Extensions)
    plays_hevc = False  # and &hevc=1: H.265 too

    async def start_view(self, user: Any, session_key: str) -> Any:
        raise NotImplementedError

    def view_groups(self, view: Any, user: Any, session_key: str) -> list[str]:
        raise NotImplementedError

    async def view_allowed(self, view: Any) -> bool:
        raise NotImplementedError

    async def end_view(self, view: Any) -> None:
        raise NotImplementedError

    async def connect(self) -> None:
        user = self.scope.get("user")
        session = self.scope.get("session")
        if user is None or not user.is_authenticated or session is None or not session.session_key:
            await self.close()
            return
        self.ip, self.user_agent = client_of(self.scope)
        query = (self.scope.get("query_string") or b"").split(b"&")
        self.plays_mp4 = b"format=mp4" in query
        self.plays_hevc = self.plays_mp4 and b"hevc=1" in query
        self.view = view = await self.start_view(user, session.session_key)
        if view is None:
            await self.close()  # another household's, missing or disabled camera: refused before accept
            return
        groups = self.view_groups(view, user, session.session_key)
        if not await self.join_and_guard(groups, lambda: self.view_allowed(view)):
            await self.leave()
            await self.end_view(view)
            self.view = None
            await self.close()
            return
        await self.accept()
        await self.send(text_data=json.dumps(view.status))  # offline cameras say so at once
        self.slot = ViewerSlot(
            camera_id=view.camera_id,
            account_id=view.account_id,
            send=self._send_frame,
            send_text=self._send_text,
            credits=settings.LIVE_MP4_CREDITS if self.plays_mp4 else settings.LIVE_VIEWER_CREDITS,
            window_bytes=settings.LIVE_MP4_WINDOW_BYTES if self.plays_mp4 else None,
            jpeg_credits=settings.LIVE_VIEWER_CREDITS,
            mp4=self.plays_mp4,
            hevc=self.plays_hevc,
        )
        await get_hub().attach(self.slot)

    async def _send_frame(self, frame: bytes) -> None:
        await self.send(bytes_data=frame)

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)

    async def end_access(self, reason: str) -> None:
        # Said in a message first: the close frame's reason does not reach every browser.
        await self.send(text_data=json.dumps({"type": "status", "state": "ended", "message": reason}))
        await super().end_access(reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """``ack``, or ``ack N`` for N messages at once; other short text is ignored. Binary,
        long or too many messages close the socket: a browser sends only acks, one per frame."""
        if bytes_data is not None:
            await self.close(code=CLOSE_NOT_JPEG, reason="Viewers send only text acknowledgements.")
            return
        if text_data is not None and len(text_data) > VIEWER_MAX_MESSAGE_CHARS:
            await self.close(code=CLOSE_TOO_LARGE, reason="Viewer messages are a few characters at most.")
            return
        if self.viewer_rate is None:
            self.viewer_rate = RateLimit(VIEWER_MESSAGES_PER_FRAME * settings.LIVE_MAX_FPS)
        if not self.viewer_rate.allow():
            await self.close(code=CLOSE_TOO_FAST, reason="Too many messages.")
            return
        if self.slot is None or text_data is None or not text_data.startswith("ack"):
            return
        count = text_data[4:]
        if text_data == "ack":
            self.slot.ack()
        elif text_data[3] == " " and count.isdigit() and len(count) <= 4:
            self.slot.ack(int(count))

    async def after_layer_failure(self) -> None:
        if self.slot is not None:
            with contextlib.suppress(*REDIS_DOWN):  # the hub forgets the slot before it unsubscribes
                await get_hub().detach(self.slot)
        if self.view is not None:
            await self.end_view(self.view)

    async def disconnect(self, code: int) -> None:
        if self.view is None:
            return
        try:
            if self.slot is not None:
                await get_hub().detach(self.slot)
            await self.leave()
        finally:
            await self.end_view(self.view)


class LiveViewerConsumer(WatchingConsumer):
    """A household member, in their active household, on a camera they may see."""

    async def start_view(self, user: Any, session_key: str) -> LiveView | None:
        session = self.scope["session"]
        view: LiveView | None = await database_sync_to_async(start_live_view)(
            user=user,
            session_key=session_key,
            active_account=session.get(ACTIVE_ACCOUNT_SESSION_KEY),
            camera_id=self.scope["url_route"]["kwargs"]["camera_id"],
            ip=self.ip,
            user_agent=self.user_agent,
            plays_mp4=self.plays_mp4,
            plays_hevc=self.plays_hevc,
        )
        return view

    def view_groups(self, view: LiveView, user: Any, session_key: str) -> list[str]:
        return [
            user_group(user.pk),
            member_group(view.account_id, user.pk),
            session_group(session_key),
            camera_control_group(view.camera_id),
            camera_viewer_group(view.membership_id, view.camera_id),
        ]

    async def view_allowed(self, view: LiveView) -> bool:
        allowed: bool = await database_sync_to_async(still_allowed)(view)
        return allowed

    async def end_view(self, view: LiveView) -> None:
        await database_sync_to_async(end_live_view)(view, ip=self.ip, user_agent=self.user_agent)
