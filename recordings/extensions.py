"""Hooks that apps above recordings register from their ``AppConfig.ready()``.

``on_clip_ready(hook)``: ``hook(account_id=, camera_id=, recording_id=)`` runs once the
transaction that made a clip READY with motion has committed (processing calls
``clip_ready_on_commit``), so it sees the stored clip and its motion events.
"""

import uuid
from collections.abc import Callable

from django.db import transaction

ClipReadyHook = Callable[..., None]
_clip_ready: list[ClipReadyHook] = []


def on_clip_ready(hook: ClipReadyHook) -> None:
    if hook not in _clip_ready:
        _clip_ready.append(hook)


def clip_ready_on_commit(*, account_id: uuid.UUID, camera_id: uuid.UUID, recording_id: uuid.UUID) -> None:
    """Call every hook for this clip once the current transaction commits."""

    def run() -> None:
        for hook in _clip_ready:
            hook(account_id=account_id, camera_id=camera_id, recording_id=recording_id)

    transaction.on_commit(run)
