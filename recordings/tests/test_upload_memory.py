"""One request never holds more than about one encryption chunk, whatever its body's size."""

import hashlib
import tempfile
import tracemalloc

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.handlers.asgi import ASGIHandler

from accounts.tenancy import account_scope
from conftest import World
from devices.credentials import authenticate
from recordings.upload.protocol import parse_creation
from recordings.upload.services import upload_append, upload_create
from tools.upload_testing import MIB, clip_bytes, metadata, stored_clip, times

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uploads_commit")]


def test_a_request_holds_about_one_chunk_not_its_body(world: World, settings, django_capture_on_commit_callbacks):
    """An 8 MiB PATCH is read, hashed and sealed 1 MiB at a time: the peak stays near two chunks."""
    settings.RECORDINGS_MAX_CHUNK_BYTES = 8 * MIB
    block = clip_bytes(MIB)  # the body's source: the same MiB again and again, never the whole body
    parts = 2
    data_length = parts * 8 * MIB + 100
    digest = hashlib.sha256()
    for _ in range(parts * 8):
        digest.update(block)
    digest.update(block[:100])
    started, ended = times()
    spec = parse_creation(
        length=str(data_length),
        metadata=metadata(sha256=digest.hexdigest(), started_at=started.isoformat(), ended_at=ended.isoformat()),
        idempotency_key=None,
    )
    principal = authenticate(world.a.tokens[0], address="127.0.0.1")
    assert principal is not None
    with account_scope(world.a.account.pk):  # as the tus route opens it
        state = upload_create(principal=principal, spec=spec, read=None, count=0)
    upload_id = state.upload_id
    assert upload_id is not None

    def read(size: int) -> bytes:
        assert size <= MIB, f"asked for {size} bytes at once"
        return block if size == MIB else block[:size]

    peaks = []
    offset = 0
    for count in (8 * MIB, 8 * MIB, 100):
        tracemalloc.start()
        with django_capture_on_commit_callbacks(execute=True), account_scope(world.a.account.pk):
            state = upload_append(principal=principal, upload_id=upload_id, offset=offset, read=read, count=count)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        offset = state.offset
    assert state.recording_id is not None
    assert max(peaks) < 3 * MIB, f"peak Python allocations per request: {peaks}"
    stored = stored_clip(world.a.account.pk, state.recording_id)
    assert hashlib.sha256(stored).hexdigest() == digest.hexdigest()


def test_a_full_size_part_stays_off_the_disk_in_djangos_asgi_handler(monkeypatch):
    """Django's ASGI handler spools a body over FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file:
    a part of RECORDINGS_MAX_CHUNK_BYTES (plaintext video) must stay in memory."""
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: pytest.fail("the body went to a temporary file"))
    body = bytes(django_settings.RECORDINGS_MAX_CHUNK_BYTES)
    messages = [
        {"type": "http.request", "body": body[start : start + MIB], "more_body": start + MIB < len(body)}
        for start in range(0, len(body), MIB)
    ]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    body_file = async_to_sync(ASGIHandler().read_body)(receive)
    assert len(body_file.read()) == len(body)
    assert messages == []
