"""Control groups for open websockets, and the message that closes them.

Sockets of any app join these groups on connect; ``accounts`` sends to them
when access ends (a membership removed, a session logged out, a password
changed) without knowing which apps hold sockets. Group names are built from
server-side ids only. Frames never travel through these groups.
"""

import hashlib
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

DISCONNECT = "force.disconnect"


def user_group(user_id: uuid.UUID) -> str:
    return f"user.{user_id.hex}"


def member_group(account_id: uuid.UUID, user_id: uuid.UUID) -> str:
    return f"member.{account_id.hex}.{user_id.hex}"


def account_group(account_id: uuid.UUID) -> str:
    return f"account.{account_id.hex}"


def session_group(session_key: str) -> str:
    # Hashed: a session key is a credential and group names end up in Redis keys.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def close_sockets_on_commit(*groups: str, reason: str) -> None:
    """After the transaction commits, close every socket in ``groups``."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for group in groups:
            async_to_sync(layer.group_send)(group, {"type": DISCONNECT, "reason": reason})

    transaction.on_commit(send, robust=True)
