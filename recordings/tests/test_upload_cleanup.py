"""Removing uploads that were never completed: expired rows with their files, and stray partial files."""

import os
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import account_scope
from conftest import World
from recordings.models import Upload
from recordings.upload.cleanup import expire_uploads, remove_stray_partials
from recordings.upload.partials import partial_dir, partial_path
from tools.upload_testing import (
    MIB,
    clip_bytes,
    create,
    partial_files,
    patch,
    uploads_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uploads_commit")]


def expire(account_id, location: str) -> None:
    with account_scope(account_id):
        Upload.objects.filter(pk=location.split("/")[-2]).update(expires_at=timezone.now() - timedelta(minutes=1))


def test_expire_uploads_removes_expired_uploads_of_every_household_with_their_files(world: World):
    data = clip_bytes(2 * MIB)
    old_a = create(world.a.tokens[0], data, body=data[:MIB])["Location"]
    old_b = create(world.b.tokens[0], data)["Location"]
    live_a = create(world.a.tokens[0], data)["Location"]
    expire(world.a.account.pk, old_a)
    expire(world.b.account.pk, old_b)
    assert len(partial_files()) == 3
    assert expire_uploads() == 2
    assert [str(u.pk) for u in uploads_of(world.a.account.pk)] == [live_a.split("/")[-2]]
    assert uploads_of(world.b.account.pk) == []
    [remaining] = partial_files()
    assert live_a.split("/")[-2].replace("-", "") in remaining.name
    assert expire_uploads() == 0


def test_an_expired_idempotency_key_can_be_used_again(world: World):
    data = clip_bytes(MIB)
    first = create(world.a.tokens[0], data, key="again")["Location"]
    expire(world.a.account.pk, first)
    second = create(world.a.tokens[0], data, body=data, key="again")
    assert second.status_code == 201
    assert second["Recording-Id"]
    assert partial_files() == []


def test_remove_stray_partials_removes_only_old_files_without_an_upload(world: World):
    data = clip_bytes(2 * MIB)
    live = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], live, 0, data[:MIB]).status_code == 204
    [live_partial] = partial_files()
    stray_old = partial_path(world.a.account.pk, uuid.uuid4())
    stray_young = partial_path(world.b.account.pk, uuid.uuid4())
    other = partial_dir() / "nvrc-someone-elses.part"
    for path in (stray_old, stray_young, other):
        path.write_bytes(b"sealed bytes")
    an_hour_ago = time.time() - 3600
    for path in (stray_old, other, live_partial):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert remove_stray_partials(timedelta(minutes=10)) == 1
    assert not stray_old.exists()
    assert stray_young.exists()
    assert other.exists()
    assert len(uploads_of(world.a.account.pk)) == 1
    assert live_partial.exists()
    other.unlink()
