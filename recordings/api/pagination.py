"""Opaque keyset cursors for recording pages, on ``(started_at, id)``.

A cursor is the position just outside a page plus its direction, signed with
the site's secret (``django.core.signing``) and bound to the household it was
issued in. A tampered, truncated or foreign cursor is a 400, never a page of
anything else; and the scoped queryset would apply anyway.
"""

import uuid
from datetime import datetime
from typing import Literal

from django.core import signing
from django.utils.translation import gettext as _

from recordings.models import Recording
from recordings.selectors import Position

SALT = "recordings.cursor.v1"
# The events list's cursors: the same encoding, positions of motion events, not clips.
# A salt of their own, so a clip list's cursor is not taken for an event's position.
EVENTS_SALT = "recordings.events.cursor.v1"
Direction = Literal["next", "previous"]


class InvalidCursor(ValueError):
    pass


def encode_cursor(position: Position, *, direction: Direction, account_id: uuid.UUID, salt: str = SALT) -> str:
    payload = [direction[0], position.started_at.isoformat(), position.id.hex, account_id.hex]
    return signing.dumps(payload, salt=salt)


def decode_cursor(token: str, *, account_id: uuid.UUID, salt: str = SALT) -> tuple[Direction, Position]:
    try:
        direction, started_at, recording_id, issued_for = signing.loads(token, salt=salt)
        if issued_for != account_id.hex:
            raise ValueError("issued in another household")
        position = Position(started_at=datetime.fromisoformat(started_at), id=uuid.UUID(recording_id))
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise InvalidCursor(_("Invalid cursor: use the 'next' or 'previous' link of a page as it is.")) from error
    if direction not in ("n", "p"):
        raise InvalidCursor(_("Invalid cursor."))
    return ("next" if direction == "n" else "previous"), position


def page_links(
    *, items: list[Recording], has_more: bool, direction: Direction | None, account_id: uuid.UUID
) -> tuple[str | None, str | None]:
    """The cursors of the pages after and before a page read in ``direction``.

    One query per page: a forward page knows whether more follow (it read one
    extra row) and that something precedes it (it was reached from there); a
    backward page, the other way round.
    """
    if not items:
        return None, None
    first, last = items[0], items[-1]
    newer = direction is not None and (direction == "next" or has_more)
    older = has_more if direction != "previous" else True

    def cursor(recording: Recording, to: Direction) -> str:
        position = Position(started_at=recording.started_at, id=recording.pk)
        return encode_cursor(position, direction=to, account_id=account_id)

    return (cursor(last, "next") if older else None), (cursor(first, "previous") if newer else None)
