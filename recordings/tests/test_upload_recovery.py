"""Uploads after crashes and races: a reused key, a leftover final file, rows that vanish mid-request."""

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.tenancy import TenantQuerySet, account_scope
from conftest import World
from devices.api.authentication import DeviceTokenAuthentication
from devices.services import camera_delete
from recordings import files
from recordings.models import Recording, Upload
from recordings.storage import path_for
from tools.upload_testing import (
    MIB,
    clip_bytes,
    clip_files,
    create,
    partial_files,
    patch,
    recording_ids,
    stored_clip,
    uploads_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uploads_commit")]


def final_path(account_id: uuid.UUID, recording_id: uuid.UUID) -> Path:
    return Path(files.clip_storage.storage.path(path_for(account_id, recording_id, files.CLIP)))


def test_it_keeps_the_uploaded_sha256_apart_from_the_processed_one(world: World):
    """Processing may remux the clip (new sha256 and size); upload_sha256 stays what the camera sent."""
    data = clip_bytes(50_000)
    response = create(world.a.tokens[0], data, body=data, key="clip-7")
    assert response.status_code == 201
    with account_scope(world.a.account.pk):
        recording = Recording.objects.get(pk=response["Recording-Id"])
        assert recording.upload_sha256 == recording.sha256 != ""


def test_a_key_reused_for_another_clip_after_completion_is_a_conflict(world: World):
    """The first upload is a recording already: another clip under its key is 409, not silently dropped."""
    data = clip_bytes(100_000)
    first = create(world.a.tokens[0], data, body=data, key="done-1")
    assert first.status_code == 201
    before = recording_ids(world.a.account.pk)
    files_before = clip_files(world.a.account.pk)
    other = clip_bytes(100_000)
    again = create(world.a.tokens[0], other, body=other, key="done-1")
    assert again.status_code == 409
    assert "Idempotency-Key" in again.json()["detail"]
    assert "Recording-Id" not in again
    assert recording_ids(world.a.account.pk) == before
    assert clip_files(world.a.account.pk) == files_before
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []


def test_a_retry_after_processing_rewrote_the_clip_returns_the_recording(world: World):
    """The comparison is with the uploaded clip, not the remuxed one: a true retry is still 200."""
    data = clip_bytes(100_000)
    first = create(world.a.tokens[0], data, body=data, key="done-2")
    with account_scope(world.a.account.pk):
        Recording.objects.filter(pk=first["Recording-Id"]).update(sha256="f" * 64, size_bytes=99_000)
    again = create(world.a.tokens[0], data, body=data, key="done-2")
    assert again.status_code == 200, again.content
    assert again["Recording-Id"] == first["Recording-Id"]
    assert again["Upload-Offset"] == again["Upload-Length"] == str(len(data))


def test_a_key_of_a_recording_from_before_upload_sha256_still_answers_a_retry(world: World):
    """Rows from before the migration have upload_sha256 '': nothing to compare, the recording is returned."""
    data = clip_bytes(1000)
    first = create(world.a.tokens[0], data, body=data, key="old-1")
    with account_scope(world.a.account.pk):
        Recording.objects.filter(pk=first["Recording-Id"]).update(upload_sha256="")
    again = create(world.a.tokens[0], data, body=data, key="old-1")
    assert again.status_code == 200
    assert again["Recording-Id"] == first["Recording-Id"]


def start_two_part_upload(world: World, data: bytes) -> tuple[str, uuid.UUID]:
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    [upload] = uploads_of(world.a.account.pk)
    return location, upload.recording_id


def crash_after_publishing(monkeypatch, world: World, location: str, data: bytes) -> None:
    """The last PATCH gives the clip its final name, then the process dies before the commit:
    the rollback keeps the upload, and no cleanup runs (the final name stays)."""

    def killed(**kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as crashed:
        crashed.setattr("recordings.upload.services.recording_create", killed)
        crashed.setattr("recordings.upload.services.files.delete", lambda **kwargs: None)
        with pytest.raises(SystemExit):
            patch(world.a.tokens[0], location, MIB, data[MIB:])


def test_a_last_patch_retried_after_a_crash_completes_the_upload(world: World, monkeypatch):
    """The final name left by the crashed attempt is replaced: 204 and the clip decrypts to its bytes."""
    data = clip_bytes(MIB + 500)
    location, recording_id = start_two_part_upload(world, data)
    crash_after_publishing(monkeypatch, world, location, data)
    assert final_path(world.a.account.pk, recording_id).exists()
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == MIB
    last = patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert last.status_code == 204, last.content
    assert last["Recording-Id"] == str(recording_id)
    assert stored_clip(world.a.account.pk, recording_id) == data
    assert partial_files() == []


def test_a_stray_file_at_the_final_name_is_replaced(world: World):
    """Any bytes at the final name without a Recording are a leftover: the upload's own clip takes the name."""
    data = clip_bytes(MIB + 500)
    location, recording_id = start_two_part_upload(world, data)
    stray = final_path(world.a.account.pk, recording_id)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(os.urandom(3000))
    last = patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert last.status_code == 204, last.content
    assert stored_clip(world.a.account.pk, recording_id) == data


def test_a_final_name_that_cannot_be_freed_is_a_json_error(world: World, monkeypatch):
    """The leftover cannot be removed: a readable JSON error, nothing committed, the upload still resumable."""
    data = clip_bytes(MIB + 500)
    location, recording_id = start_two_part_upload(world, data)
    stray = final_path(world.a.account.pk, recording_id)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"leftover")
    monkeypatch.setattr(type(files.clip_storage.storage), "delete", lambda self, name: None)
    response = patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert response.status_code == 500
    assert "try again" in response.json()["detail"]
    assert stray.read_bytes() == b"leftover"
    assert str(recording_id) not in {str(pk) for pk in recording_ids(world.a.account.pk)}
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == MIB
    assert len(partial_files()) == 1


def test_an_expired_upload_removed_concurrently_frees_its_key(world: World, monkeypatch):
    """expire_uploads deletes the expired upload between this request's read and its own delete:
    the key is free all the same, and a new upload starts (no ScopeError 500)."""
    data = clip_bytes(MIB)
    assert create(world.a.tokens[0], data, key="late").status_code == 201
    with account_scope(world.a.account.pk):
        Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    real_first = TenantQuerySet.first

    def first_then_expired_elsewhere(self):
        row = real_first(self)
        if isinstance(row, Upload) and row.expires_at <= timezone.now():
            Upload.objects.filter(pk=row.pk).delete()  # what a concurrent expire_uploads commits
        return row

    monkeypatch.setattr(TenantQuerySet, "first", first_then_expired_elsewhere)
    response = create(world.a.tokens[0], data, key="late")
    assert response.status_code == 201, response.content
    [upload] = uploads_of(world.a.account.pk)
    assert str(upload.pk) in response["Location"]


def test_a_camera_deleted_after_authentication_gets_a_json_401(world: World, monkeypatch):
    """The token was valid when checked, the camera is gone when the upload starts: 401, nothing stored."""
    real = DeviceTokenAuthentication.authenticate

    def authenticate_then_delete(self, request):
        result = real(self, request)
        with account_scope(world.a.account.pk):
            camera_delete(actor=world.a.memberships["owner"], camera=world.a.cameras[0])
        return result

    monkeypatch.setattr(DeviceTokenAuthentication, "authenticate", authenticate_then_delete)
    data = clip_bytes(1000)
    response = create(world.a.tokens[0], data, body=data)
    assert response.status_code == 401
    assert "camera" in response.json()["detail"]
    assert response["WWW-Authenticate"] == 'Bearer realm="nvr-device"'
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []
