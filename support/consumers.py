"""``/ws/support/<grant>/live/<camera>/``: support staff watch a camera under a grant.

Refused before accept without an active grant covering the camera. Closed when
the owner ends the grant (a message to the grant's group), when the staff
person signs out or loses their role (their groups and the periodic re-check),
and at the grant's expiry by the socket's own timer: expiry sends no message.
"""

import asyncio
import uuid
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from accounts.realtime import session_group, user_group
from devices.consumers import CLOSE_REVOKED, FrameConsumer, client_of
from devices.fanout import ViewerSlot, get_hub
from devices.groups import camera_control_group
from support.groups import grant_group
from support.live import SupportView, end_support_view, start_support_view, still_allowed


class SupportLiveConsumer(FrameConsumer):
    view: SupportView | None = None
    slot: ViewerSlot | None = None
    deadline: "asyncio.Task[None] | None" = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        session = self.scope.get("session")
        if user is None or not user.is_authenticated or session is None or not session.session_key:
            await self.close()
            return
        self.ip, self.user_agent = client_of(self.scope)
        kwargs = self.scope["url_route"]["kwargs"]
        self.view = await database_sync_to_async(start_support_view)(
            user=user,
            session_key=session.session_key,
            grant_id=uuid.UUID(str(kwargs["grant_id"])),
            camera_id=uuid.UUID(str(kwargs["camera_id"])),
            ip=self.ip,
            user_agent=self.user_agent,
        )
        if self.view is None:
            await self.close()  # refused before accept
            return
        view = self.view
        groups = [
            user_group(user.pk),
            session_group(session.session_key),
            camera_control_group(view.camera_id),
            grant_group(view.grant_id),
        ]
        if not await self.join_and_guard(groups, lambda: database_sync_to_async(still_allowed)(view)):
            await self.leave()
            await database_sync_to_async(end_support_view)(view, ip=self.ip, user_agent=self.user_agent)
            self.view = None
            await self.close()
            return
        await self.accept()
        self.deadline = asyncio.get_running_loop().create_task(self._close_at_expiry(view))
        self.slot = ViewerSlot(
            camera_id=view.camera_id,
            account_id=view.account_id,
            send=self._send_frame,
            credits=settings.LIVE_VIEWER_CREDITS,
        )
        await get_hub().attach(self.slot)

    async def _close_at_expiry(self, view: SupportView) -> None:
        await asyncio.sleep(max(0.0, (view.expires_at - timezone.now()).total_seconds()))
        await self.close(code=CLOSE_REVOKED, reason="support access expired")

    async def _send_frame(self, frame: bytes) -> None:
        await self.send(bytes_data=frame)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data == "ack" and self.slot is not None:
            self.slot.ack()

    async def force_disconnect(self, event: dict[str, Any]) -> None:
        await self.close(code=CLOSE_REVOKED, reason=event.get("reason", "access ended"))

    async def disconnect(self, code: int) -> None:
        if self.view is None:
            return
        if self.deadline is not None:
            self.deadline.cancel()
        try:
            if self.slot is not None:
                await get_hub().detach(self.slot)
            await self.leave()
        finally:
            await database_sync_to_async(end_support_view)(self.view, ip=self.ip, user_agent=self.user_agent)
