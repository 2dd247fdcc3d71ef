"""A camera's side of the upload API: a minimal tus 1.0.0 client on ``http.client`` alone.

Used by the simulated cameras, ``bench/upload.py`` and the post-deploy canary
(``manage.py canary``, which runs where ``tools`` is not installed). The protocol's values
come from ``recordings.upload.constants`` (standard library only, shared with
the server); nothing else of the server is imported. A real camera may use
any tus client that sends ``Upload-Metadata`` (sha256, started_at, ended_at)
and parts that are multiples of ``Upload-Chunk-Multiple``.

``upload_clip`` sends the first part with the creation request
(creation-with-upload: a short clip is one request), then PATCHes the rest.
After a connection error it reconnects, asks the server for its offset (HEAD)
and continues from there; a retried creation carries the same
Idempotency-Key, so a retry never makes a second recording.
"""

import base64
import hashlib
import http.client
import io
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Final
from urllib.parse import urlsplit

from recordings.upload.constants import CHUNK_MULTIPLE, CREATE_PATH, OFFSET_CONTENT_TYPE, TUS_VERSION

__all__ = ["DEFAULT_CHUNK_SIZE", "UploadFailed", "upload_clip"]

DEFAULT_CHUNK_SIZE: Final = 8 * CHUNK_MULTIPLE
_RETRYABLE = (ConnectionError, TimeoutError, http.client.HTTPException, OSError)


class UploadFailed(Exception):
    """The server refused the upload (a 4xx/5xx answer that retrying will not fix), or retries ran out."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _metadata(fields: dict[str, str]) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items())


@contextmanager
def _source(path_or_bytes: str | os.PathLike[str] | bytes) -> Iterator[tuple[IO[bytes], str | None]]:
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        yield io.BytesIO(path_or_bytes), None
        return
    path = Path(path_or_bytes)
    with path.open("rb") as handle:
        yield handle, path.name


def _sha256_and_length(source: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    length = 0
    while block := source.read(CHUNK_MULTIPLE):
        digest.update(block)
        length += len(block)
    return digest.hexdigest(), length


class _Connection:
    """One keep-alive connection to the server, reopened after an error."""

    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.secure = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port
        self.token = token
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        if self._connection is None:
            factory = http.client.HTTPSConnection if self.secure else http.client.HTTPConnection
            self._connection = factory(self.host, self.port, timeout=self.timeout)
        headers = {"Tus-Resumable": TUS_VERSION, "Authorization": f"Bearer {self.token}", **headers}
        headers["Content-Length"] = str(len(body or b""))
        try:
            self._connection.request(method, path, body=body, headers=headers)
            response = self._connection.getresponse()
            content = response.read()
        except BaseException:
            self.close()
            raise
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _detail(status: int, content: bytes) -> str:
    try:
        return str(json.loads(content)["detail"])
    except (ValueError, KeyError, TypeError):
        return content[:200].decode(errors="replace") or f"HTTP {status}"


def upload_clip(
    base_url: str,
    token: str,
    path_or_bytes: str | os.PathLike[str] | bytes,
    *,
    started_at: datetime,
    ended_at: datetime,
    idempotency_key: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    retries: int = 5,
    timeout: float = 60.0,
) -> str:
    """Upload a clip (a file path or bytes) with the camera's token; return the recording's id.

    ``chunk_size`` is rounded down to a multiple of 1 MiB (the server's
    ``Upload-Chunk-Multiple``). Without ``idempotency_key`` a random one is used
    for this call, so its own retries stay idempotent. Raises ``UploadFailed``.
    """
    part = max(CHUNK_MULTIPLE, chunk_size - chunk_size % CHUNK_MULTIPLE)
    key = idempotency_key or uuid.uuid4().hex
    connection = _Connection(base_url, token, timeout)
    with _source(path_or_bytes) as (source, filename):
        sha256, length = _sha256_and_length(source)
        if length == 0:
            raise UploadFailed("An empty clip cannot be uploaded.")
        fields = {"sha256": sha256, "started_at": started_at.isoformat(), "ended_at": ended_at.isoformat()}
        if filename:
            fields["filename"] = filename  # informative only: the server never uses it in a path
        creation = {
            "Upload-Length": str(length),
            "Upload-Metadata": _metadata(fields),
            "Idempotency-Key": key,
            "Content-Type": OFFSET_CONTENT_TYPE,
        }

        def read_part(offset: int) -> bytes:
            source.seek(offset)
            return source.read(min(part, length - offset))

        location: str | None = None
        offset = 0
        failures = 0
        try:
            while True:
                try:
                    if location is None:
                        status, headers, content = connection.request("POST", CREATE_PATH, creation, read_part(0))
                        if status not in (200, 201):
                            raise UploadFailed(_detail(status, content), status)
                        if "recording-id" in headers:
                            return headers["recording-id"]
                        location = urlsplit(headers["location"]).path
                        offset = int(headers["upload-offset"])
                        continue
                    status, headers, content = connection.request(
                        "PATCH",
                        location,
                        {"Upload-Offset": str(offset), "Content-Type": OFFSET_CONTENT_TYPE},
                        read_part(offset),
                    )
                    if status == 204:
                        if "recording-id" in headers:
                            return headers["recording-id"]
                        offset = int(headers["upload-offset"])
                        continue
                    if status == 409:
                        try:
                            offset = _server_offset(connection, location)
                        except _NotFound:
                            location = None
                        continue
                    if status == 404:
                        # Completed by an attempt whose answer was lost, expired, or removed:
                        # the creation retried with the same key says which.
                        failures += 1
                        if failures > retries:
                            raise UploadFailed(_detail(status, content), status)
                        location = None
                        continue
                    raise UploadFailed(_detail(status, content), status)
                except _RETRYABLE as error:
                    failures += 1
                    if failures > retries:
                        raise UploadFailed(f"Gave up after {retries} retries: {error!r}") from error
                    time.sleep(min(0.2 * 2**failures, 5.0))
                    if location is not None:
                        try:
                            offset = _server_offset(connection, location)
                        except _NotFound:
                            location = None
                        except _RETRYABLE:
                            pass  # the next attempt's error counts as the next failure
        finally:
            connection.close()


class _NotFound(Exception):
    pass


def _server_offset(connection: _Connection, location: str) -> int:
    status, headers, content = connection.request("HEAD", location, {})
    if status == 404:
        raise _NotFound
    if status != 200:
        raise UploadFailed(_detail(status, content), status)
    return int(headers["upload-offset"])
