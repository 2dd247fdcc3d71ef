"""The tus 1.0.0 protocol's headers: parsing and checking what a camera sends.

Everything here is pure (no database, no files): each function takes header
values and returns typed values or raises ``TusError`` with the status and a
message the camera's developer can act on.
"""

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from recordings.upload.constants import CREATE_PATH, OFFSET_CONTENT_TYPE, TUS_VERSION

TUS_EXTENSIONS: Final = "creation,creation-with-upload,termination,expiration"
MAX_CLIP_SPAN: Final = timedelta(hours=1)
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
MAX_CLIP_AGE: Final = timedelta(days=3650)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_METADATA_KEY = re.compile(r"[!-+\--~]+")  # printable ASCII without space and comma
_IDEMPOTENCY_KEY = re.compile(r"[ -~]{1,100}")
_INTEGER = re.compile(r"[0-9]{1,19}")


class TusError(Exception):
    """A request the protocol refuses: an HTTP status and a readable message.

    Raised by the header checks here, and made from the services' ``UploadError``
    by the views (``as_tus_error``); the services themselves never name a status.
    """

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class UploadSpec:
    """What a creation request declares about the clip."""

    length: int
    sha256: str
    started_at: datetime
    ended_at: datetime
    idempotency_key: str


def check_version(value: str | None) -> None:
    if value != TUS_VERSION:
        raise TusError(
            412, _("This server speaks tus %(version)s: send 'Tus-Resumable: %(version)s'.") % {"version": TUS_VERSION}
        )


def parse_integer(value: str | None, name: str) -> int:
    if value is None:
        raise TusError(400, _("The %(name)s header is required.") % {"name": name})
    value = value.strip()
    if not _INTEGER.fullmatch(value):
        raise TusError(
            400,
            _("The %(name)s header must be a non-negative integer, not %(value)s.")
            % {"name": name, "value": repr(value[:40])},
        )
    return int(value)


def parse_upload_length(value: str | None) -> int:
    """``Upload-Length``: 413 above the limit, decided before any body is read."""
    length = parse_integer(value, "Upload-Length")
    if length == 0:
        raise TusError(400, _("Upload-Length must be more than 0: an empty clip is not a clip."))
    limit = settings.RECORDINGS_MAX_UPLOAD_BYTES
    if length > limit:
        raise TusError(
            413,
            _("The clip is %(length)s bytes; the largest accepted is %(limit)s bytes.")
            % {"length": length, "limit": limit},
        )
    return length


def check_body_length(content_length: int) -> None:
    """One request's body: 413 above RECORDINGS_MAX_CHUNK_BYTES (send the clip in several PATCHes)."""
    limit = settings.RECORDINGS_MAX_CHUNK_BYTES
    if content_length > limit:
        raise TusError(
            413,
            _("A request body is at most %(limit)s bytes; send the clip in several PATCH requests of that size.")
            % {"limit": limit},
        )


def parse_metadata(value: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (the value may be absent)."""
    result: dict[str, str] = {}
    if not value or not value.strip():
        return result
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        if len(parts) not in (1, 2) or not _METADATA_KEY.fullmatch(parts[0]):
            raise TusError(400, _("Upload-Metadata must be comma-separated 'key base64value' pairs."))
        key = parts[0]
        if key in result:
            raise TusError(400, _("Upload-Metadata names %(key)s twice.") % {"key": repr(key)})
        raw = b""
        if len(parts) == 2:
            try:
                raw = base64.b64decode(parts[1], validate=True)
            except (binascii.Error, ValueError):
                raise TusError(
                    400, _("Upload-Metadata: the value of %(key)s is not base64.") % {"key": repr(key)}
                ) from None
        try:
            result[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TusError(
                400, _("Upload-Metadata: the value of %(key)s is not UTF-8 text.") % {"key": repr(key)}
            ) from None
    return result


def _timestamp(metadata: dict[str, str], key: str) -> datetime:
    value = metadata.get(key)
    if value is None:
        raise TusError(400, _("Upload-Metadata must include %(key)s (ISO 8601 with a timezone).") % {"key": key})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise TusError(
            400, _("%(key)s is not an ISO 8601 date and time: %(value)s.") % {"key": key, "value": repr(value[:40])}
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TusError(400, _("%(key)s must include a timezone (e.g. 2026-11-30T08:00:00Z or +01:00).") % {"key": key})
    # In UTC now, as the database stores it: 0001-01-01T00:00+14:00 is valid ISO 8601 but
    # its UTC time is before year 1 (an OverflowError when SQLite saves it, a BC date in PostgreSQL).
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise TusError(
            400, _("%(key)s is out of range: %(value)s.") % {"key": key, "value": repr(value[:40])}
        ) from None


def parse_idempotency_key(value: str | None) -> str:
    if value is None:
        return ""
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise TusError(400, _("Idempotency-Key must be 1 to 100 printable ASCII characters."))
    return value


def parse_creation(
    *, length: str | None, metadata: str | None, idempotency_key: str | None, now: datetime | None = None
) -> UploadSpec:
    """A creation request's headers, checked. ``filename`` in the metadata is accepted and ignored."""
    size = parse_upload_length(length)
    fields = parse_metadata(metadata)
    digest = fields.get("sha256", "").strip().lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise TusError(400, _("Upload-Metadata must include sha256: the clip's SHA-256 as 64 hex digits."))
    started_at = _timestamp(fields, "started_at")
    ended_at = _timestamp(fields, "ended_at")
    if ended_at < started_at:
        raise TusError(400, _("ended_at is before started_at."))
    if ended_at - started_at > MAX_CLIP_SPAN:
        raise TusError(400, _("A clip spans at most one hour (ended_at - started_at)."))
    now = now or timezone.now()
    if ended_at > now + MAX_CLOCK_SKEW:
        raise TusError(400, _("ended_at is in the future: check the camera's clock."))
    if started_at < now - MAX_CLIP_AGE:
        raise TusError(400, _("started_at is more than 10 years ago: check the camera's clock."))
    return UploadSpec(
        length=size,
        sha256=digest,
        started_at=started_at,
        ended_at=ended_at,
        idempotency_key=parse_idempotency_key(idempotency_key),
    )


def check_offset_content_type(content_type: str | None) -> None:
    if (content_type or "").split(";")[0].strip().lower() != OFFSET_CONTENT_TYPE:
        raise TusError(
            415, _("An upload's bytes are sent with 'Content-Type: %(type)s'.") % {"type": OFFSET_CONTENT_TYPE}
        )


def upload_path(upload_id: uuid.UUID) -> str:
    return f"{CREATE_PATH}{upload_id}/"


def recording_path(recording_id: uuid.UUID) -> str:
    return f"/api/v1/recordings/{recording_id}/"
