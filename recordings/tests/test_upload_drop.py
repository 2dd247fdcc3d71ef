"""An upload whose connection drops mid-body, against a real daphne: nothing half-written, nothing left.

A raw socket sends a request's headers and half its body, then closes. No
recording appears, the upload's offset does not move, and once the upload has
expired the sweep leaves no file of it anywhere under the data directory.
"""

import hashlib
import http.client
import socket
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tenancy import account_scope
from conftest import World
from nvr.testing import LiveServer
from recordings import files
from recordings.models import Upload
from recordings.sweep import sweep
from recordings.upload.constants import CHUNK_MULTIPLE, CREATE_PATH, OFFSET_CONTENT_TYPE, TUS_VERSION
from tools.upload_testing import clip_bytes, metadata, partial_files, recording_ids, times, uploads_of

pytestmark = pytest.mark.django_db(transaction=True)


def creation_headers(token: str, data: bytes) -> dict[str, str]:
    started, ended = times()
    fields = {"sha256": hashlib.sha256(data).hexdigest(), "started_at": started.isoformat()}
    return {
        "Authorization": f"Bearer {token}",
        "Tus-Resumable": TUS_VERSION,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(**fields, ended_at=ended.isoformat()),
    }


def request(server: LiveServer, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple:
    parts = urlsplit(server.http)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def send_half_and_drop(server: LiveServer, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
    """The request line, its headers (announcing the whole body) and half the body; then the connection closes."""
    parts = urlsplit(server.http)
    head = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[: len(body) // 2])


def files_named(*ids: str) -> list[Path]:
    """Every file under the data directory whose name holds one of these ids (hex)."""
    return [path for path in Path(settings.DATA_DIR).rglob("*") if any(i in path.name for i in ids)]


def test_a_creation_with_its_body_dropped_midway_leaves_nothing(asgi_server: LiveServer, world: World):
    account, token = world.a.account.pk, world.a.tokens[0]
    before = recording_ids(account)
    data = clip_bytes(CHUNK_MULTIPLE + CHUNK_MULTIPLE // 2)
    headers = {**creation_headers(token, data), "Content-Type": OFFSET_CONTENT_TYPE}

    send_half_and_drop(asgi_server, "POST", CREATE_PATH, headers, data)

    # The server is still there, and took nothing of the dropped request.
    status, _ = request(asgi_server, "OPTIONS", CREATE_PATH, {"Tus-Resumable": TUS_VERSION})
    assert status in (200, 204)
    assert recording_ids(account) == before
    assert uploads_of(account) == []
    assert partial_files() == []


def test_a_part_dropped_midway_moves_nothing_and_the_sweep_leaves_no_file(asgi_server: LiveServer, world: World):
    account, token = world.a.account.pk, world.a.tokens[0]
    before = recording_ids(account)
    data = clip_bytes(2 * CHUNK_MULTIPLE + 300_000)
    status, created = request(asgi_server, "POST", CREATE_PATH, creation_headers(token, data))
    assert status == 201
    location = created["Location"]
    part = {"Authorization": f"Bearer {token}", "Tus-Resumable": TUS_VERSION, "Content-Type": OFFSET_CONTENT_TYPE}
    status, answer = request(asgi_server, "PATCH", location, {**part, "Upload-Offset": "0"}, data[:CHUNK_MULTIPLE])
    assert (status, answer["Upload-Offset"]) == (204, str(CHUNK_MULTIPLE))

    rest = data[CHUNK_MULTIPLE:]
    send_half_and_drop(asgi_server, "PATCH", location, {**part, "Upload-Offset": str(CHUNK_MULTIPLE)}, rest)

    # Nothing half-written: the offset is where the last whole part left it, and it can be resumed.
    status, answer = request(
        asgi_server, "HEAD", location, {"Authorization": f"Bearer {token}", "Tus-Resumable": TUS_VERSION}
    )
    assert (status, answer["Upload-Offset"]) == (200, str(CHUNK_MULTIPLE))
    assert recording_ids(account) == before
    [upload] = uploads_of(account)
    ids = (upload.pk.hex, upload.recording_id.hex)
    assert len(files_named(*ids)) == 1  # its partial file, kept for a resume

    # The camera never comes back: the upload expires, and the sweep removes it.
    with account_scope(account):
        Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    report = sweep(grace=timedelta(0))
    assert report.expired_uploads == 1
    assert report.failed_households == []
    assert uploads_of(account) == []
    assert recording_ids(account) == before
    assert files_named(*ids) == []
    assert not files.clip_storage.exists(account_id=account, object_id=upload.recording_id, kind=files.CLIP)
