"""End to end through a real daphne: the client uploads in several parts, and resumes after lost answers."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import account_scope
from conftest import World
from recordings.models import Recording, Upload
from recordings.upload import client as upload_client
from tools.upload_testing import MIB, clip_bytes, partial_files, stored_clip

pytestmark = pytest.mark.django_db(transaction=True)


def clip_times():
    ended = timezone.now() - timedelta(minutes=1)
    return ended - timedelta(seconds=30), ended


def test_a_clip_uploads_through_daphne_in_several_parts(asgi_server, world: World, tmp_path):
    data = clip_bytes(3 * MIB + 500_000)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    started, ended = clip_times()
    recording_id = upload_client.upload_clip(
        asgi_server.http, world.a.tokens[0], path, started_at=started, ended_at=ended, chunk_size=MIB
    )
    assert stored_clip(world.a.account.pk, recording_id) == data
    with account_scope(world.a.account.pk):
        recording = Recording.objects.get(pk=recording_id)
        assert recording.camera_id == world.a.cameras[0].pk
        assert (recording.started_at, recording.ended_at) == (started, ended)
        assert not Upload.objects.exists()
    assert partial_files() == []


def test_the_client_resumes_when_answers_are_lost(asgi_server, world: World, monkeypatch):
    """The server applied a PATCH but its answer was lost, then the last answer too: one recording, intact."""
    real = upload_client._Connection.request
    calls: list[str] = []

    def flaky(self, method, path, headers, body=None):
        result = real(self, method, path, headers, body)
        calls.append(method)
        patches = calls.count("PATCH")
        if method == "PATCH" and patches in (1, 3):  # the server did the work; the camera never hears
            self.close()
            raise ConnectionResetError("connection reset by peer")
        return result

    monkeypatch.setattr(upload_client._Connection, "request", flaky)
    data = clip_bytes(4 * MIB - 1000)
    started, ended = clip_times()
    recording_id = upload_client.upload_clip(
        asgi_server.http,
        world.a.tokens[0],
        data,
        started_at=started,
        ended_at=ended,
        chunk_size=MIB,
        idempotency_key="cam-clip-42",
    )
    assert stored_clip(world.a.account.pk, recording_id) == data
    # Resumed with HEAD after the first loss; after the last PATCH's answer was lost, the
    # upload was gone (completed), so the retried creation returned the same recording.
    assert calls == ["POST", "PATCH", "HEAD", "PATCH", "PATCH", "HEAD", "POST"]
    with account_scope(world.a.account.pk):
        assert Recording.objects.filter(idempotency_key="cam-clip-42").count() == 1


def test_the_client_reports_a_refusal(asgi_server, world: World):
    started, ended = clip_times()
    with pytest.raises(upload_client.UploadFailed) as refused:
        upload_client.upload_clip(asgi_server.http, "nvr1.bad.token.here", b"clip", started_at=started, ended_at=ended)
    assert refused.value.status == 401


def test_two_patches_at_the_same_offset_take_turns(world: World, monkeypatch):
    """The row lock: of two simultaneous PATCHes at offset 0, one appends and the other gets 409."""
    import threading

    from django.db import connection

    from recordings.storage import resumable
    from tools.upload_testing import create, patch, stored_clip

    real_append = resumable.append

    def slow_append(*args, **kwargs):
        time.sleep(0.3)  # both requests are in flight while the first one appends
        return real_append(*args, **kwargs)

    monkeypatch.setattr(resumable, "append", slow_append)
    data = clip_bytes(2 * MIB)
    location = create(world.a.tokens[0], data)["Location"]
    statuses: list[int] = []

    def send() -> None:
        try:
            statuses.append(patch(world.a.tokens[0], location, 0, data[:MIB]).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [204, 409]
    with account_scope(world.a.account.pk):
        assert Upload.objects.get().offset == MIB
    monkeypatch.setattr(resumable, "append", real_append)
    last = patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data
