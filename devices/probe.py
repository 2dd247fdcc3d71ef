""" "Test connection": read a camera's stream for a few seconds before it is saved.

The same path as the ingest worker, so a test proves what the worker will do: the
address check (``devices.addresses``: private, link-local and metadata addresses are
refused unless an operator allows them) and the stream reader child (no secrets,
limits, protocol whitelist), asked for pictures, until it has said what the stream
is and sent one JPEG; then it is stopped. The answer is that picture, its codec and
size, or one of a few sentences: never an error's text, the address or its password.

Each test makes the server connect out, so a person may run ``NVR_CAMERA_TESTS_PER_USER``
of them per ``NVR_CAMERA_TESTS_WINDOW_S``, whichever household they act in.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.auth.client import PersonLimit
from accounts.models import Membership
from accounts.services import actor_account_id
from devices.addresses import AddressNotAllowed, check_address
from devices.ingest.config import IngestConfig
from devices.ingest.reader import JpegFrame, Outcome, ReaderLimits, StreamInfo, StreamReader

logger = logging.getLogger("nvr.devices")

TEST_SECONDS = 8.0  # for the whole test: connecting, the stream's description and a picture
OPEN_SECONDS = 5.0  # for the stream to open: a silent host ends as "unreachable" before the above

NO_PICTURE = _("No picture arrived in time: the camera answered but sent no picture within %(seconds)s seconds.")
WORDS = {
    Outcome.UNREACHABLE: _("Cannot reach the camera: check its address and port, and that it is switched on."),
    Outcome.CREDENTIALS: _("The camera refused the user name or password."),
    Outcome.UNSUPPORTED: _(
        "The camera answered, but not with a stream this site reads: "
        "check the brand, channel and stream (or the address's path)."
    ),
    Outcome.NOT_ALLOWED: _("This address is not allowed."),
    Outcome.FAILED: _("The stream reader stopped: the stream may be damaged or too large."),
}

TESTS = PersonLimit(
    "camera-test", limit_setting="NVR_CAMERA_TESTS_PER_USER", window_setting="NVR_CAMERA_TESTS_WINDOW_S"
)


class TooManyTests(Exception):
    """The person tested cameras too often lately."""

    def __str__(self) -> str:
        return gettext("You tested cameras many times in a short while: wait a few minutes, then try again.")


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    outcome: str  # "picture", an ``Outcome`` value, or "no_picture"
    message: str
    codec: str = ""
    width: int = 0
    height: int = 0
    jpeg: bytes = field(default=b"", repr=False)


def camera_test(*, actor: Membership, url: str) -> ProbeResult:
    """Read ``url`` for at most ``TEST_SECONDS``: one picture and what the stream is, or why not.

    Owners and members only (they add cameras); raises ``TooManyTests`` past the
    person's limit, counted before the address is even resolved."""
    actor_account_id(actor)
    if not actor.can_manage_cameras:
        raise PermissionDenied(gettext("Only owners and members add cameras."))
    if not TESTS.allow(actor.user_id):
        raise TooManyTests
    try:
        address = check_address(url)
    except AddressNotAllowed as refused:
        # Not even the redacted address: a typed one that does not parse may split its password.
        logger.info("camera test by membership %s: address refused (%s)", actor.pk, refused.reason)
        return ProbeResult(ok=False, outcome=Outcome.NOT_ALLOWED, message=str(refused))
    where = f"{address.scheme}://{address.host}:{address.port}"  # no credentials, path or query
    config = IngestConfig.from_settings()
    config = IngestConfig(max_fps=config.max_fps, open_timeout=min(config.open_timeout, OPEN_SECONDS))
    # A loop of its own in this request's thread: async_to_sync would run the child's I/O
    # on daphne's event loop, which carries every live socket.
    reader = StreamReader(address, config, ReaderLimits.from_settings(), decode=True)
    info, picture = asyncio.run(_first_picture(reader))
    logger.info("camera test by membership %s: %s -> %s %s", actor.pk, where, reader.outcome, reader.detail)
    return _result(info, picture, reader.outcome)


async def _first_picture(reader: StreamReader) -> tuple[StreamInfo | None, JpegFrame | None]:
    info: StreamInfo | None = None
    picture: JpegFrame | None = None

    async def read() -> None:
        nonlocal info, picture
        # Left at the first picture: stopping the reader ends the child, and asyncio.run
        # finalises the generator.
        async for message in reader.messages():
            if isinstance(message, StreamInfo):
                info = message
            elif isinstance(message, JpegFrame):
                picture = message
                return

    async with reader:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(read(), TEST_SECONDS)
    return info, picture


def _result(info: StreamInfo | None, picture: JpegFrame | None, outcome: Outcome | None) -> ProbeResult:
    codec, width, height = (info.codec, info.width, info.height) if info else ("", 0, 0)
    if picture is not None:
        width, height = width or picture.width, height or picture.height
        message = gettext("The camera works: %(codec)s, %(width)dx%(height)d.") % {
            "codec": codec or gettext("video"),
            "width": width,
            "height": height,
        }
        return ProbeResult(True, "picture", message, codec, width, height, picture.data)
    if outcome in WORDS:
        return ProbeResult(False, str(outcome), str(WORDS[outcome]), codec, width, height)
    # Stopped by the deadline, or the stream ended first.
    message = NO_PICTURE % {"seconds": f"{TEST_SECONDS:g}"}
    return ProbeResult(False, "no_picture", message, codec, width, height)
