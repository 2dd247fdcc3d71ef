"""HTTP Range (RFC 9110 §14) for one decrypted object, streamed chunk by chunk.

Only a single range is honoured. A malformed Range header, another unit, or
several ranges are ignored and the whole object is sent with 200, which the RFC
allows ("a server MAY ignore the Range header field"); players only ever ask
for one range. Positions are ASCII digits (not any Unicode digit), at most 19
of them (``int()`` raises ValueError past 4300): a longer number is malformed,
so the header is ignored.
"""

import contextlib
import re
from collections.abc import Generator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

_SINGLE = re.compile(r"^bytes=([0-9]{0,19})-([0-9]{0,19})$")


class Unsatisfiable(Exception):
    """The range lies outside the object: 416."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to send, or None for the whole object. Raises ``Unsatisfiable``."""
    if not header:
        return None
    match = _SINGLE.match(header.strip().replace(" ", ""))
    if match is None:
        return None  # other unit, several ranges, or garbage: ignored
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(size - count, 0), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid range-spec: ignore the header
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, min(end, size - 1))


def _next_or_none(chunks: Generator[bytes, None, None]) -> bytes | None:
    return next(chunks, None)


class _AsyncChunks:
    """The decrypting generator for an ASGI server, a chunk per worker-thread call.

    Django's ASGI handler would otherwise read a sync iterator *whole* into a
    list before sending it (a 200 MB clip in memory); this keeps one 1 MiB chunk
    in flight. ``close()`` (called by the response) closes the file.
    """

    def __init__(self, chunks: Generator[bytes, None, None]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> "_AsyncChunks":
        return self

    async def __anext__(self) -> bytes:
        chunk = await sync_to_async(_next_or_none, thread_sensitive=False)(self._chunks)
        if chunk is None:
            raise StopAsyncIteration
        return chunk

    def close(self) -> None:
        # ValueError: a worker thread is still inside next() (the client left);
        # the file then closes when the generator is collected.
        with contextlib.suppress(ValueError):
            self._chunks.close()


def streaming_response(request: HttpRequest, chunks: Generator[bytes, None, None]) -> StreamingHttpResponse:
    """A streaming response over ``chunks``, asynchronous under ASGI, synchronous under WSGI."""
    if isinstance(request, ASGIRequest):
        return StreamingHttpResponse(_AsyncChunks(chunks))
    return StreamingHttpResponse(chunks)


def unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(_("Range not satisfiable: the object has %(size)s bytes.") % {"size": size}, status=416)
    response["Content-Range"] = f"bytes */{size}"
    response["Content-Type"] = "text/plain; charset=utf-8"
    return response
