"""Clip upload over tus: storing, resuming, idempotency, and refusing bad requests without leftovers."""

import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes.exceptions import ScopeError

from accounts.tenancy import account_scope
from conftest import World, client_for
from devices.credentials import authenticate
from devices.models import CameraKind
from devices.services import camera_create, token_revoke
from recordings.models import Recording, RecordingStatus, Upload
from recordings.storage import DEFAULT_CHUNK_SIZE
from recordings.upload.constants import CHUNK_MULTIPLE, CREATE_PATH
from recordings.upload.partials import running_hashes
from recordings.upload.services import upload_get, upload_terminate
from tools.upload_testing import (
    CREATE,
    MIB,
    call,
    clip_bytes,
    clip_files,
    create,
    partial_files,
    patch,
    recording_ids,
    stored_clip,
    upload_all,
    uploads_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uploads_commit")]


def test_it_stores_a_short_clip_in_one_request(world: World):
    """Creation-with-upload: the whole clip in the POST; the stored clip decrypts to the same bytes."""
    data = clip_bytes(300_000)
    response = create(world.a.tokens[0], data, body=data)
    assert response.status_code == 201, response.content
    recording_id = response["Recording-Id"]
    assert response["Recording-Location"] == f"/api/v1/recordings/{recording_id}/"
    assert response["Upload-Offset"] == str(len(data))
    body = response.json()
    assert body["recording_id"] == recording_id
    assert body["offset"] == body["length"] == len(data)
    assert stored_clip(world.a.account.pk, recording_id) == data
    with account_scope(world.a.account.pk):
        recording = Recording.objects.get(pk=recording_id)
        assert recording.camera_id == world.a.cameras[0].pk
        assert recording.status == RecordingStatus.UPLOADED
        assert recording.sha256 == hashlib.sha256(data).hexdigest()
        assert recording.stored_bytes > len(data)
        assert not Upload.objects.exists()
    assert partial_files() == []


def test_it_stores_a_clip_sent_in_several_patches(world: World):
    """Parts of 1 MiB and a shorter last one; the clip comes back byte for byte."""
    data = clip_bytes(3 * MIB + 12345)
    created = create(world.a.tokens[0], data)
    assert created.status_code == 201
    assert created.json() == {
        "upload_id": created["Location"].split("/")[-2],
        "offset": 0,
        "length": len(data),
        "recording_id": None,
    }
    assert created["Upload-Chunk-Multiple"] == str(MIB)
    assert "Upload-Expires" in created
    assert len(partial_files()) == 1
    location = created["Location"]
    for offset in range(0, 3 * MIB, MIB):
        response = patch(world.a.tokens[0], location, offset, data[offset : offset + MIB])
        assert response.status_code == 204
        assert response["Upload-Offset"] == str(offset + MIB)
        assert "Recording-Id" not in response
    last = patch(world.a.tokens[0], location, 3 * MIB, data[3 * MIB :])
    assert last.status_code == 204
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []
    assert call("HEAD", world.a.tokens[0], location).status_code == 404


def test_it_keeps_only_ciphertext_in_the_partial_file(world: World):
    """Between requests the partial file holds sealed chunks, never the plaintext."""
    data = clip_bytes(2 * MIB + 10)
    created = create(world.a.tokens[0], data)
    patch(world.a.tokens[0], created["Location"], 0, data[:MIB])
    [partial] = partial_files()
    on_disk = partial.read_bytes()
    assert data[:4096] not in on_disk
    assert data[1000:1064] not in on_disk
    assert str(world.a.account.pk.hex) in partial.name


def test_it_refuses_a_declared_length_over_the_limit_before_reading(world: World, settings, monkeypatch):
    """413 from the headers alone: the body is never read, nothing is written."""
    settings.RECORDINGS_MAX_UPLOAD_BYTES = 1000

    def refuse(*args, **kwargs):
        raise AssertionError("the body was read")

    monkeypatch.setattr(HttpRequest, "read", refuse)
    data = clip_bytes(5000)
    response = create(world.a.tokens[0], data, body=data)
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []


def test_it_refuses_a_body_over_the_request_limit(world: World, settings, monkeypatch):
    """413 from Content-Length for a PATCH bigger than RECORDINGS_MAX_CHUNK_BYTES; the offset stays."""
    settings.RECORDINGS_MAX_CHUNK_BYTES = MIB
    data = clip_bytes(3 * MIB)
    created = create(world.a.tokens[0], data)
    monkeypatch.setattr(HttpRequest, "read", lambda *a, **k: pytest.fail("the body was read"))
    response = patch(world.a.tokens[0], created["Location"], 0, data[: 2 * MIB])
    assert response.status_code == 413
    assert "PATCH" in response.json()["detail"]
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == 0


@pytest.mark.parametrize("parts", [1, 3], ids=["one request", "three patches"])
def test_it_refuses_a_checksum_mismatch_and_leaves_nothing(world: World, parts: int):
    """400; no clip file, no partial file, no Upload row, no Recording."""
    data = clip_bytes(2 * MIB + 5)
    wrong = hashlib.sha256(b"something else").hexdigest()
    files_before = clip_files(world.a.account.pk)
    recordings_before = recording_ids(world.a.account.pk)
    if parts == 1:
        response = create(world.a.tokens[0], data, body=data, sha256=wrong)
    else:
        location = create(world.a.tokens[0], data, sha256=wrong)["Location"]
        assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
        assert patch(world.a.tokens[0], location, MIB, data[MIB : 2 * MIB]).status_code == 204
        response = patch(world.a.tokens[0], location, 2 * MIB, data[2 * MIB :])
    assert response.status_code == 400
    assert "sha256" in response.json()["detail"]
    assert clip_files(world.a.account.pk) == files_before
    assert partial_files() == []
    assert uploads_of(world.a.account.pk) == []
    assert recording_ids(world.a.account.pk) == recordings_before


def test_it_hashes_by_decrypting_when_this_process_lost_the_running_hash(world: World):
    """Another process took the earlier parts (or a restart): completion decrypts the partial file."""
    data = clip_bytes(2 * MIB + 77)
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    running_hashes.forget(uuid.UUID(location.split("/")[-2]))
    assert patch(world.a.tokens[0], location, MIB, data[MIB : 2 * MIB]).status_code == 204
    assert len(running_hashes) == 0  # no hash can be carried on from a missing one
    last = patch(world.a.tokens[0], location, 2 * MIB, data[2 * MIB :])
    assert last.status_code == 204
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data


def test_it_refuses_a_mismatch_found_by_decrypting(world: World):
    """The slow path checks the checksum too."""
    data = clip_bytes(MIB + 1)
    location = create(world.a.tokens[0], data, sha256=hashlib.sha256(data[:-1]).hexdigest())["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    running_hashes.forget(uuid.UUID(location.split("/")[-2]))
    assert patch(world.a.tokens[0], location, MIB, data[MIB:]).status_code == 400
    assert partial_files() == []
    assert uploads_of(world.a.account.pk) == []


def test_it_uses_the_running_hash_when_it_holds_it(world: World, monkeypatch):
    """The fast path: the partial file is not decrypted at completion."""
    from recordings.storage import resumable

    monkeypatch.setattr(resumable, "decrypted_sha256", lambda *a, **k: pytest.fail("decrypted the partial file"))
    data = clip_bytes(2 * MIB + 3)
    response = upload_all(world.a.tokens[0], data)
    assert stored_clip(world.a.account.pk, response["Recording-Id"]) == data


def test_it_ignores_a_running_hash_for_other_bytes(world: World):
    """A cached hash whose chunk tag is not the file's (a rolled-back append) is not used."""
    data = clip_bytes(2 * MIB + 3)
    location = create(world.a.tokens[0], data)["Location"]
    upload_id = uuid.UUID(location.split("/")[-2])
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    running_hashes.put(upload_id, MIB, b"x" * 16, hashlib.sha256(b"stale"))
    assert patch(world.a.tokens[0], location, MIB, data[MIB : 2 * MIB]).status_code == 204
    last = patch(world.a.tokens[0], location, 2 * MIB, data[2 * MIB :])
    assert last.status_code == 204, last.content
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data


def test_a_retried_creation_returns_the_same_recording(world: World):
    """Same camera, same Idempotency-Key: 200 with the first recording, never a second one."""
    data = clip_bytes(100_000)
    first = create(world.a.tokens[0], data, body=data, key="clip-0001")
    assert first.status_code == 201
    again = create(world.a.tokens[0], data, body=data, key="clip-0001")
    assert again.status_code == 200
    assert again["Recording-Id"] == first["Recording-Id"]
    assert again["Upload-Offset"] == str(len(data))
    assert again.json()["recording_id"] == first["Recording-Id"]
    with account_scope(world.a.account.pk):
        assert Recording.objects.filter(idempotency_key="clip-0001").count() == 1
    assert partial_files() == []


def test_a_retried_creation_resumes_the_upload_in_progress(world: World):
    """The upload is still going: 200 with its Location and offset, and the body is not taken again."""
    data = clip_bytes(2 * MIB)
    first = create(world.a.tokens[0], data, body=data[:MIB], key="k-2")
    assert first.status_code == 201
    assert first["Upload-Offset"] == str(MIB)
    again = create(world.a.tokens[0], data, body=data[:MIB], key="k-2")
    assert again.status_code == 200
    assert again["Location"] == first["Location"]
    assert again["Upload-Offset"] == str(MIB)
    assert len(uploads_of(world.a.account.pk)) == 1
    last = patch(world.a.tokens[0], again["Location"], MIB, data[MIB:])
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data


def test_the_same_key_from_another_camera_is_independent(world: World):
    with account_scope(world.a.account.pk):
        _camera, other_token = camera_create(actor=world.a.memberships["owner"], name="Garden", kind=CameraKind.PUSH)
    data = clip_bytes(1000)
    first = create(world.a.tokens[0], data, body=data, key="same")
    second = create(other_token, data, body=data, key="same")
    assert first.status_code == second.status_code == 201
    assert first["Recording-Id"] != second["Recording-Id"]


def test_a_key_reused_for_another_clip_is_a_conflict(world: World):
    data = clip_bytes(2 * MIB)
    assert create(world.a.tokens[0], data, key="k").status_code == 201
    response = create(world.a.tokens[0], clip_bytes(2 * MIB), key="k")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]


def test_it_resumes_after_an_interrupted_upload(world: World):
    """The connection broke during a PATCH: HEAD says what the server has; the camera continues from there."""
    data = clip_bytes(3 * MIB + 9)
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    # The next PATCH never arrived whole; the camera asks where to resume.
    head = call("HEAD", world.a.tokens[0], location)
    assert head.status_code == 200
    assert head["Upload-Offset"] == str(MIB)
    assert head["Upload-Length"] == str(len(data))
    assert head["Cache-Control"] == "private, no-store"
    offset = int(head["Upload-Offset"])
    response = patch(world.a.tokens[0], location, offset, data[offset : offset + 2 * MIB])
    assert response["Upload-Offset"] == str(3 * MIB)
    last = patch(world.a.tokens[0], location, 3 * MIB, data[3 * MIB :])
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data


def test_it_overwrites_what_an_interrupted_append_left(world: World):
    """Bytes written past the recorded offset (a crash before the row was updated) are replaced."""
    data = clip_bytes(2 * MIB + 1)
    location = create(world.a.tokens[0], data)["Location"]
    [partial] = partial_files()
    with partial.open("ab") as handle:
        handle.write(b"\x00" * 5000)
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    last = patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data


def test_a_wrong_offset_is_a_conflict(world: World):
    data = clip_bytes(2 * MIB)
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    again = patch(world.a.tokens[0], location, 0, data[:MIB])  # the same PATCH twice
    assert again.status_code == 409
    assert "1048576" in again.json()["detail"]
    assert patch(world.a.tokens[0], location, 2 * MIB, data[:MIB]).status_code == 409
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == MIB


def test_a_part_that_is_not_a_multiple_of_the_chunk_is_refused(world: World):
    data = clip_bytes(3 * MIB)
    location = create(world.a.tokens[0], data)["Location"]
    response = patch(world.a.tokens[0], location, 0, data[: MIB + 100])
    assert response.status_code == 400
    assert "multiple of 1048576" in response.json()["detail"]
    too_long = patch(world.a.tokens[0], location, 0, data + b"x")
    assert too_long.status_code == 400
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == 0


def test_a_patch_needs_the_offset_content_type(world: World):
    data = clip_bytes(MIB)
    location = create(world.a.tokens[0], data)["Location"]
    response = patch(world.a.tokens[0], location, 0, data, content_type="application/octet-stream")
    assert response.status_code == 415
    assert "application/offset+octet-stream" in response.json()["detail"]
    body = create(world.a.tokens[0], data, body=data, content_type="video/mp4")
    assert body.status_code == 415


def test_a_wrong_protocol_version_is_refused(world: World):
    data = clip_bytes(1000)
    response = create(world.a.tokens[0], data, body=data, tus="0.2.2")
    assert response.status_code == 412
    assert response["Tus-Resumable"] == "1.0.0"
    assert uploads_of(world.a.account.pk) == []


def test_options_describe_the_server(world: World):
    response = Client().options(CREATE)
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
    }
    assert response["Upload-Chunk-Multiple"] == str(MIB)
    assert int(response["Tus-Max-Size"]) > 0


def test_the_values_shared_with_cameras_match_the_server():
    """recordings/upload/client.py takes these from recordings.upload.constants, not from the server's code."""
    assert reverse("recordings-upload:upload-create") == CREATE_PATH
    # Parts of whole multiples seal whole encryption chunks as they arrive (resumable.append).
    assert CHUNK_MULTIPLE % DEFAULT_CHUNK_SIZE == 0


def test_another_households_token_finds_nothing(world: World):
    """B's genuine token on A's upload: 404 for HEAD, PATCH and DELETE, and A's upload is untouched."""
    data = clip_bytes(2 * MIB)
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    [before] = uploads_of(world.a.account.pk)
    [partial] = partial_files()
    content = partial.read_bytes()
    unknown = f"/api/v1/device/uploads/{uuid.uuid4()}/"
    for path in (location, unknown):
        assert call("HEAD", world.b.tokens[0], path).status_code == 404
        response = patch(world.b.tokens[0], path, MIB, data[MIB:])
        assert response.status_code == 404
        assert response.json() == {"detail": "No such upload (unknown, expired, completed or cancelled)."}
        assert call("DELETE", world.b.tokens[0], path).status_code == 404
    [after] = uploads_of(world.a.account.pk)
    assert (after.offset, after.length, after.expires_at) == (before.offset, before.length, before.expires_at)
    assert partial.read_bytes() == content


def test_another_cameras_upload_in_the_same_household_is_not_found(world: World):
    with account_scope(world.a.account.pk):
        _camera, other_token = camera_create(actor=world.a.memberships["owner"], name="Side", kind=CameraKind.PUSH)
    data = clip_bytes(MIB)
    location = create(world.a.tokens[0], data)["Location"]
    assert call("HEAD", other_token, location).status_code == 404
    assert patch(other_token, location, 0, data).status_code == 404
    assert call("HEAD", world.a.tokens[0], location).status_code == 200


def test_a_revoked_token_is_refused(world: World):
    data = clip_bytes(MIB)
    location = create(world.a.tokens[0], data)["Location"]
    with account_scope(world.a.account.pk):
        token_revoke(actor=world.a.memberships["owner"], camera=world.a.cameras[0])
    assert create(world.a.tokens[0], data, body=data).status_code == 401
    response = patch(world.a.tokens[0], location, 0, data)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert create(None, data, body=data).status_code == 401
    assert uploads_of(world.a.account.pk)[0].offset == 0


def test_a_session_is_not_a_camera(world: World):
    data = clip_bytes(1000)
    response = create(None, data, body=data, client=client_for(world.a.owner))
    assert response.status_code in (401, 403)
    assert uploads_of(world.a.account.pk) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"started_at": None}, "started_at"),
        ({"ended_at": "yesterday"}, "ISO 8601"),
        ({"started_at": "2026-11-30T08:00:00", "ended_at": "2026-11-30T08:00:10"}, "timezone"),
        ({"started_at": "2026-01-01T08:00:10+00:00", "ended_at": "2026-01-01T08:00:00+00:00"}, "before"),
        ({"started_at": "2026-01-01T08:00:00+00:00", "ended_at": "2026-01-01T09:00:01+00:00"}, "one hour"),
        ({"started_at": "2099-01-01T08:00:00Z", "ended_at": "2099-01-01T08:00:10Z"}, "future"),
        ({"sha256": "abc"}, "sha256"),
        # Valid ISO 8601 whose UTC time is before year 1: it overflowed when saved (a 500).
        ({"started_at": "0001-01-01T00:00:00+14:00", "ended_at": "0001-01-01T00:00:10+14:00"}, "out of range"),
        ({"started_at": "9999-12-31T23:59:50-14:00", "ended_at": "9999-12-31T23:59:59-14:00"}, "out of range"),
        ({"started_at": "2010-01-01T08:00:00Z", "ended_at": "2010-01-01T08:00:10Z"}, "10 years"),
    ],
)
def test_bad_metadata_is_refused(world: World, fields, message):
    data = clip_bytes(1000)
    response = create(world.a.tokens[0], data, body=data, fields=fields)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []


@pytest.mark.parametrize(
    "headers",
    [{"Upload-Length": "0"}, {"Upload-Length": "-5"}, {"Upload-Length": "ten"}, {"Upload-Metadata": "sha256 !!!"}],
)
def test_bad_headers_are_refused(world: World, headers):
    request_headers = {
        "Tus-Resumable": "1.0.0",
        "Authorization": f"Bearer {world.a.tokens[0]}",
        "Upload-Length": "10",
        "Upload-Metadata": "",
        **headers,
    }
    response = Client().generic(
        "POST", CREATE, b"", content_type="application/offset+octet-stream", headers=request_headers
    )
    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_bad_idempotency_key_is_refused(world: World):
    data = clip_bytes(1000)
    assert create(world.a.tokens[0], data, body=data, key="x" * 101).status_code == 400
    assert create(world.a.tokens[0], data, body=data, key="caf\u00e9").status_code == 400


def test_the_clients_filename_never_reaches_a_path(world: World):
    """``filename`` is accepted and ignored: names come from server-side ids only."""
    data = clip_bytes(MIB + 10)
    hostile = "../../../../etc/evil.mp4"
    created = create(world.a.tokens[0], data, fields={"filename": hostile})
    assert created.status_code == 201
    [partial] = partial_files()
    assert "evil" not in partial.name
    last = patch(world.a.tokens[0], created["Location"], 0, data[:MIB])
    last = patch(world.a.tokens[0], created["Location"], MIB, data[MIB:])
    recording_id = uuid.UUID(last["Recording-Id"])
    names = [p.name for p in clip_files(world.a.account.pk)]
    assert f"{recording_id.hex}.nvrc" in names
    media = Path(settings.MEDIA_ROOT)  # (its own path is a random temporary folder)
    assert not any("evil" in str(p.relative_to(media)) for p in media.rglob("*"))


def test_termination_removes_the_upload_and_its_file(world: World):
    data = clip_bytes(2 * MIB)
    location = create(world.a.tokens[0], data)["Location"]
    patch(world.a.tokens[0], location, 0, data[:MIB])
    response = call("DELETE", world.a.tokens[0], location)
    assert response.status_code == 204
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []
    assert call("HEAD", world.a.tokens[0], location).status_code == 404


def test_an_expired_upload_is_not_found(world: World):
    data = clip_bytes(MIB)
    response = create(world.a.tokens[0], data)
    with account_scope(world.a.account.pk):
        Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert call("HEAD", world.a.tokens[0], response["Location"]).status_code == 404
    assert patch(world.a.tokens[0], response["Location"], 0, data).status_code == 404


def test_a_missing_partial_file_ends_the_upload(world: World):
    """No row may point at nothing: the upload is removed and the camera starts again."""
    data = clip_bytes(MIB)
    location = create(world.a.tokens[0], data)["Location"]
    partial_files()[0].unlink()
    response = patch(world.a.tokens[0], location, 0, data)
    assert response.status_code == 404
    assert uploads_of(world.a.account.pk) == []


def test_a_failure_at_completion_leaves_no_clip_and_the_upload_resumable(world: World, monkeypatch):
    """The Recording cannot be created: the clip given its final name is deleted, nothing is committed,
    and the upload is still at its last committed offset with its partial file, so the camera retries."""
    from recordings.services import recording_create as real

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("recordings.upload.services.recording_create", broken)
    data = clip_bytes(MIB + 3)
    files_before = clip_files(world.a.account.pk)
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    with pytest.raises(RuntimeError):
        patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert clip_files(world.a.account.pk) == files_before
    assert recording_ids(world.a.account.pk) == {r.pk for r in world.a.recordings}
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == MIB
    assert len(partial_files()) == 1
    monkeypatch.setattr("recordings.upload.services.recording_create", real)
    last = patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert last.status_code == 204
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data


def test_the_upload_services_run_only_in_the_scope_their_route_opened(world: World):
    """The tus views open the token's household; a service called without it refuses."""
    principal = authenticate(world.a.tokens[0], address="127.0.0.1")
    assert principal is not None
    with pytest.raises(ScopeError):
        upload_get(principal=principal, upload_id=uuid.uuid4())
    with account_scope(world.b.account.pk), pytest.raises(ScopeError):
        upload_terminate(principal=principal, upload_id=uuid.uuid4())
