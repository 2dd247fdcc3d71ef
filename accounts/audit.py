"""The one helper every feature calls when someone views a household's video."""

import uuid

from django.http import HttpRequest

from accounts.auth.client import client_ip
from accounts.models import AccessEvent, AccessKind, AccessVia, Membership, User


def record_access(
    *,
    account_id: uuid.UUID,
    actor: User,
    kind: AccessKind,
    object_type: str,
    object_id: uuid.UUID,
    object_label: str = "",
    membership: Membership | None = None,
    via: AccessVia = AccessVia.MEMBER,
    request: HttpRequest | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> AccessEvent:
    """Write an access event the household can read. Runs inside its scope.

    Where from: the HTTP ``request``, or ``ip`` and ``user_agent`` (websockets)."""
    if request is not None:
        ip = client_ip(request)  # behind our proxies, the client's, not the proxy's
        user_agent = request.headers.get("User-Agent", "")
    agent = user_agent[:256]
    return AccessEvent.objects.create(
        account_id=account_id,
        actor=actor,
        membership=membership,
        actor_label=actor.display_name if via == AccessVia.MEMBER else f"Support: {actor.display_name}",
        via=via,
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:200],
        ip_address=ip or None,
        user_agent=agent,
    )
