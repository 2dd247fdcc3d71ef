"""The one helper every feature calls when someone views a household's video."""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from accounts.auth.client import client_ip
from accounts.models import AccessEvent, AccessKind, AccessVia, Membership, User

logger = logging.getLogger("nvr.audit")

# A player makes many Range requests for one viewing (metadata, then a range per
# seek, sometimes a re-request from 0). One event per person and clip within
# this window is one event per viewing; a request that never starts at 0 still
# writes it, so skipping byte 0 cannot hide a viewing from the household.
ACCESS_DEDUPE_SECONDS = 10 * 60


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


def record_access_once(
    *,
    request: HttpRequest,
    account_id: uuid.UUID,
    actor: User,
    kind: AccessKind,
    key_id: uuid.UUID,
    object_type: str,
    object_id: uuid.UUID,
    object_label: str,
    membership: Membership | None = None,
    via: AccessVia = AccessVia.MEMBER,
) -> None:
    """``record_access`` unless this person wrote the same one within the window.

    The key names the household (cache keys holding tenant data always do). It
    is set only once the event has committed (``on_commit``): set earlier, an
    event write or a commit that failed would leave it behind, and every retry
    within the window would stream video with no event. The price is that two
    truly concurrent first requests may both write one (an audit duplicate is
    better than a missing one, as when the cache is down).
    """
    key = f"nvr:access:{account_id}:{actor.pk}:{via}:{kind}:{key_id}"
    if recorded_recently(key):
        return
    record_access(
        account_id=account_id,
        actor=actor,
        membership=membership,
        via=via,
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        request=request,
    )
    remember_on_commit(key, seconds=ACCESS_DEDUPE_SECONDS)


def recorded_recently(key: str) -> bool:
    """Whether an audit row under this dedupe key committed within its window. Without a
    cache, never: a duplicate row is better than a missing one."""
    try:
        return cache.get(key) is not None
    except Exception:
        logger.warning("audit dedupe cache unavailable; writing the row", exc_info=True)
        return False


def remember_on_commit(key: str, *, seconds: int) -> None:
    """Mark the key once the row has committed: marked earlier, a write or commit that
    failed would leave it behind and hide every retry within the window."""

    def remember() -> None:
        try:
            cache.set(key, 1, timeout=seconds)
        except Exception:
            logger.warning("audit dedupe cache unavailable; the next request writes another row", exc_info=True)

    transaction.on_commit(remember, robust=True)


def record_link_view(
    *,
    request: HttpRequest,
    account_id: uuid.UUID,
    link_id: uuid.UUID,
    link_label: str,
    object_type: str,
    object_id: uuid.UUID,
    object_label: str,
    page_view: bool,
) -> None:
    """A view through a share link (no person: the link is the identity), in the household's
    access history as "Shared link (<label>)".

    Every page view writes one event; the video alone (someone fetching it without the
    page) writes one per link and client address within the window, so a viewing cannot
    hide by skipping the page, and a page's player does not add a second event."""
    ip = client_ip(request)
    key = f"nvr:access:{account_id}:link:{link_id}:{ip}"
    if not page_view and recorded_recently(key):
        return
    AccessEvent.objects.create(
        account_id=account_id,
        actor=None,
        membership=None,
        actor_label=f"Shared link ({link_label})"[:254],
        via=AccessVia.LINK,
        kind=AccessKind.SHARE_VIEW,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:200],
        ip_address=ip or None,
        user_agent=request.headers.get("User-Agent", "")[:256],
    )
    remember_on_commit(key, seconds=ACCESS_DEDUPE_SECONDS)
