"""Requests of the tus upload API through Django's test client: for the upload tests and the isolation matrix."""

import base64
import hashlib
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.test import Client
from django.utils import timezone

from recordings import files
from recordings.models import Upload
from recordings.upload.constants import CREATE_PATH, OFFSET_CONTENT_TYPE, TUS_VERSION
from recordings.upload.partials import partial_dir

MIB = 1024 * 1024
CREATE = CREATE_PATH
OFFSET_TYPE = OFFSET_CONTENT_TYPE


def clip_bytes(size: int) -> bytes:
    return os.urandom(size)


def metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def times(minutes_ago: float = 2, seconds: float = 10) -> tuple[datetime, datetime]:
    ended = timezone.now() - timedelta(minutes=minutes_ago)
    return ended - timedelta(seconds=seconds), ended


def create(
    token: str | None,
    data: bytes,
    *,
    body: bytes = b"",
    length: int | None = None,
    sha256: str | None = None,
    key: str | None = None,
    fields: dict[str, str] | None = None,
    tus: str = TUS_VERSION,
    content_type: str = OFFSET_TYPE,
    client: Client | None = None,
) -> Any:
    started, ended = times()
    meta = {
        "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        **(fields or {}),
    }
    headers = {"Tus-Resumable": tus, "Upload-Length": str(len(data) if length is None else length)}
    headers["Upload-Metadata"] = metadata(**{k: v for k, v in meta.items() if v is not None})
    if key is not None:
        headers["Idempotency-Key"] = key
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return (client or Client()).generic("POST", CREATE, body, content_type=content_type, headers=headers)


def patch(
    token: str | None,
    location: str,
    offset: int,
    body: bytes,
    *,
    content_type: str = OFFSET_TYPE,
    tus: str = TUS_VERSION,
    client: Client | None = None,
) -> Any:
    headers = {"Tus-Resumable": tus, "Upload-Offset": str(offset)}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return (client or Client()).generic("PATCH", location, body, content_type=content_type, headers=headers)


def call(method: str, token: str | None, location: str, *, client: Client | None = None) -> Any:
    headers = {"Tus-Resumable": TUS_VERSION}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return (client or Client()).generic(method, location, headers=headers)


def upload_all(token: str, data: bytes, *, part: int = MIB, key: str | None = None) -> Any:
    """Create without a body, then PATCH ``part``-sized pieces; the last PATCH's response."""
    created = create(token, data, key=key)
    assert created.status_code == 201, created.content
    location = created["Location"]
    offset = 0
    response = created
    while offset < len(data):
        response = patch(token, location, offset, data[offset : offset + part])
        assert response.status_code == 204, response.content
        offset = int(response["Upload-Offset"])
    return response


def partial_files() -> list[Path]:
    folder = partial_dir()
    return sorted(folder.glob("upload-*")) if folder.exists() else []


def clip_files(account_id: Any) -> list[Path]:
    root = Path(files.clip_storage.storage.path("")) / "accounts" / account_id.hex / "clips"
    return sorted(root.rglob("*.nvrc")) if root.exists() else []


def uploads_of(account_id: Any) -> list[Upload]:
    from accounts.tenancy import account_scope

    with account_scope(account_id):
        return list(Upload.objects.all())


def recording_ids(account_id: Any) -> set[Any]:
    from accounts.tenancy import account_scope
    from recordings.models import Recording

    with account_scope(account_id):
        return set(Recording.objects.values_list("pk", flat=True))


def stored_clip(account_id: Any, recording_id: Any) -> bytes:
    from accounts.tenancy import account_scope
    from recordings.models import Recording

    with account_scope(account_id):
        recording = Recording.objects.get(pk=recording_id)
        return b"".join(files.open_range(recording, kind=files.CLIP, start=0, end_inclusive=recording.size_bytes - 1))


def remove_partial_files() -> None:
    """Tests roll back their rows, not their files: start each test without partial files."""
    from recordings.upload.partials import running_hashes

    for path in partial_files():
        path.unlink(missing_ok=True)
    running_hashes.clear()
