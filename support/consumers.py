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
from django.utils import timezone

from accounts.realtime import session_group, user_group
from devices.consumers import WatchingConsumer
from devices.groups import camera_control_group
from support.groups import grant_group
from support.live import SupportView, end_support_view, start_support_view, still_allowed


class SupportLiveConsumer(WatchingConsumer):
    deadline: "asyncio.Task[None] | None" = None

    async def start_view(self, user: Any, session_key: str) -> SupportView | None:
        kwargs = self.scope["url_route"]["kwargs"]
        view: SupportView | None = await database_sync_to_async(start_support_view)(
            user=user,
            session_key=session_key,
            grant_id=uuid.UUID(str(kwargs["grant_id"])),
            camera_id=uuid.UUID(str(kwargs["camera_id"])),
            ip=self.ip,
            user_agent=self.user_agent,
            plays_mp4=self.plays_mp4,
            plays_hevc=self.plays_hevc,
        )
        return view

    def view_groups(self, view: SupportView, user: Any, session_key: str) -> list[str]:
        return [
            user_group(user.pk),
            session_group(session_key),
            camera_control_group(view.camera_id),
            grant_group(view.grant_id),
        ]

    async def view_allowed(self, view: SupportView) -> bool:
        allowed: bool = await database_sync_to_async(still_allowed)(view)
        return allowed

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await super().accept(subprotocol, headers)
        # Expiry sends no message: the socket keeps the grant's deadline itself.
        self.deadline = asyncio.get_running_loop().create_task(self._close_at_expiry(self.view))

    async def _close_at_expiry(self, view: SupportView) -> None:
        await asyncio.sleep(max(0.0, (view.expires_at - timezone.now()).total_seconds()))
        await self.end_access("support access expired")

    async def leave(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        await super().leave()

    async def end_view(self, view: SupportView) -> None:
        await database_sync_to_async(end_support_view)(view, ip=self.ip, user_agent=self.user_agent)
