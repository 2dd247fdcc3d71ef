"""Quotas and limits at upload: a clip larger than the quota (413), bytes in flight per
household (507), open uploads per camera (429), and room made within the quota on completion."""

import uuid
from datetime import timedelta

import pytest
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Account, Role
from accounts.tenancy import account_scope
from conftest import World
from devices.models import CameraKind
from devices.services import camera_create
from recordings import retention
from recordings.models import Recording, Upload
from recordings.retention import GB, storage_usage
from recordings.storage.chunked import ciphertext_size_for
from tools.upload_testing import MIB, call, clip_bytes, create, partial_files, patch, stored_clip, uploads_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uploads_commit")]


def set_quota(household, quota_bytes: int) -> None:
    with account_scope(household.account.pk):
        Account.objects.filter(pk=household.account.pk).update(storage_quota_bytes=quota_bytes)


def usage_of(household) -> retention.StorageUsage:
    with account_scope(household.account.pk):
        return storage_usage(household.account.pk)


def clip_ids(household) -> set:
    with account_scope(household.account.pk):
        return set(Recording.objects.values_list("pk", flat=True))


def second_camera_token(household) -> str:
    with account_scope(household.account.pk):
        _camera, token = camera_create(actor=household.memberships[Role.OWNER], name="Garden", kind=CameraKind.PUSH)
    assert token is not None
    return token


# --- 413: larger than the whole quota ------------------------------------------------------
def test_five_uploads_of_2_gib_on_a_quota_of_0_1_gb_are_all_refused_at_creation(world: World, monkeypatch):
    """The issue's report: each is a 413 from the headers, its body never read, nothing kept."""
    set_quota(world.a, int(GB / 10))

    def refuse(*args, **kwargs):
        raise AssertionError("the body was read")

    monkeypatch.setattr(HttpRequest, "read", refuse)
    data = b"x"
    answers = [create(world.a.tokens[0], data, length=2 * GB, key=f"big-{n}") for n in range(5)]
    assert [answer.status_code for answer in answers] == [413] * 5
    detail = answers[0].json()["detail"]
    assert "larger than the household's whole storage quota" in detail
    assert "2147483648 bytes (2.0 GB)" in detail
    assert f"{int(GB / 10)} bytes (102 MB)" in detail
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []


def test_the_quota_compares_the_clip_as_stored(world: World):
    """The encrypted clip is a little larger than the plaintext: one that would not fit once sealed is refused."""
    data = clip_bytes(2 * MIB)
    set_quota(world.a, ciphertext_size_for(len(data)) - 1)
    assert create(world.a.tokens[0], data).status_code == 413
    set_quota(world.a, ciphertext_size_for(len(data)))
    assert create(world.a.tokens[0], data).status_code == 201


# --- 507: bytes in flight per household ----------------------------------------------------
def test_bytes_in_flight_are_capped_per_household_with_507(world: World, settings):
    settings.RECORDINGS_MAX_INFLIGHT_BYTES = 5 * MIB
    first, second = clip_bytes(3 * MIB), clip_bytes(3 * MIB)
    opened = create(world.a.tokens[0], first)
    assert opened.status_code == 201
    refused = create(world.a.tokens[0], second)
    assert refused.status_code == 507
    detail = refused.json()["detail"]
    assert f"already declare {3 * MIB} bytes (3.0 MB)" in detail
    assert f"the {5 * MIB} bytes (5.0 MB) this server holds in flight for a household" in detail
    assert len(uploads_of(world.a.account.pk)) == 1
    # Another camera of the same household shares the household's budget...
    assert create(second_camera_token(world.a), second).status_code == 507
    # ...another household has its own.
    assert create(world.b.tokens[0], second).status_code == 201
    # Received bytes still count (they sit in the partial file), until the clip is stored.
    assert patch(world.a.tokens[0], opened["Location"], 0, first[: 2 * MIB]).status_code == 204
    assert create(world.a.tokens[0], second).status_code == 507
    done = patch(world.a.tokens[0], opened["Location"], 2 * MIB, first[2 * MIB :])
    assert stored_clip(world.a.account.pk, done["Recording-Id"]) == first
    assert create(world.a.tokens[0], second).status_code == 201


def test_a_cancelled_or_expired_upload_no_longer_counts_in_flight(world: World, settings):
    settings.RECORDINGS_MAX_INFLIGHT_BYTES = 5 * MIB
    data = clip_bytes(3 * MIB)
    opened = create(world.a.tokens[0], data)
    assert create(world.a.tokens[0], data, key="next").status_code == 507
    assert call("DELETE", world.a.tokens[0], opened["Location"]).status_code == 204
    assert create(world.a.tokens[0], data, key="next").status_code == 201
    with account_scope(world.a.account.pk):
        Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert create(world.a.tokens[0], data, key="after").status_code == 201


def test_a_retried_creation_returns_its_upload_whatever_the_limits(world: World, settings):
    """The same Idempotency-Key resumes the upload it made: it adds nothing in flight."""
    settings.RECORDINGS_MAX_INFLIGHT_BYTES = 4 * MIB
    settings.RECORDINGS_MAX_OPEN_UPLOADS_PER_CAMERA = 1
    data = clip_bytes(3 * MIB)
    first = create(world.a.tokens[0], data, key="clip-1")
    again = create(world.a.tokens[0], data, key="clip-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Location"] == first["Location"]


# --- 429: open uploads per camera ----------------------------------------------------------
def test_open_uploads_are_capped_per_camera_with_429(world: World, settings):
    settings.RECORDINGS_MAX_OPEN_UPLOADS_PER_CAMERA = 2
    token = world.a.tokens[0]
    opened = [create(token, clip_bytes(1000), key=f"clip-{n}") for n in range(2)]
    assert [answer.status_code for answer in opened] == [201, 201]
    refused = create(token, clip_bytes(1000), key="clip-2")
    assert refused.status_code == 429
    assert "This camera has 2 unfinished uploads, the most it may have open at once (2)" in refused.json()["detail"]
    assert "cancel one (DELETE)" in refused.json()["detail"]
    assert len(uploads_of(world.a.account.pk)) == 2
    # Another camera, even in the same household, has its own count.
    assert create(second_camera_token(world.a), clip_bytes(1000)).status_code == 201
    # Cancelling one frees its place.
    assert call("DELETE", token, opened[0]["Location"]).status_code == 204
    assert create(token, clip_bytes(1000), key="clip-2").status_code == 201


def test_a_clip_sent_whole_in_its_creation_counts_while_it_is_created(world: World, settings):
    """Creation-with-upload of a whole clip: at the cap of one open upload, it still completes."""
    settings.RECORDINGS_MAX_OPEN_UPLOADS_PER_CAMERA = 1
    for n in range(3):
        data = clip_bytes(1000 + n)
        stored = create(world.a.tokens[0], data, body=data)
        assert stored.status_code == 201
        assert stored_clip(world.a.account.pk, stored["Recording-Id"]) == data


# --- Room within the quota ----------------------------------------------------------------
def test_completing_an_upload_deletes_the_oldest_clips_to_stay_within_the_quota(world: World):
    """The household is full: storing a clip removes its oldest clips (rows and files), never the new one."""
    before = usage_of(world.a)
    assert world.a.clips is not None
    oldest, newest = sorted(world.a.clips, key=lambda clip: clip.started_at)
    data = clip_bytes(MIB)
    new_bytes = ciphertext_size_for(len(data))
    # Room for the newest clip and the new one, not the oldest.
    set_quota(world.a, before.used_bytes - oldest.stored_bytes + new_bytes)
    b_before = clip_ids(world.b)
    stored = create(world.a.tokens[0], data, body=data)
    assert stored.status_code == 201
    assert clip_ids(world.a) == {newest.pk, uuid.UUID(stored["Recording-Id"])}
    after = usage_of(world.a)
    assert after.used_bytes <= after.quota_bytes
    assert stored_clip(world.a.account.pk, stored["Recording-Id"]) == data
    assert clip_ids(world.b) == b_before


def test_no_clip_is_deleted_while_the_household_has_room(world: World):
    before = clip_ids(world.a)
    data = clip_bytes(MIB)
    stored = create(world.a.tokens[0], data, body=data)
    assert stored.status_code == 201
    assert clip_ids(world.a) - before == {uuid.UUID(stored["Recording-Id"])}


def test_retention_does_not_delete_clips_for_uploads_in_flight(world: World):
    """Bytes that may never arrive do not cost recorded video: pruning counts stored clips only."""
    data = clip_bytes(3 * MIB)
    used = usage_of(world.a).used_bytes
    set_quota(world.a, used + ciphertext_size_for(len(data)))
    assert create(world.a.tokens[0], data).status_code == 201
    before = clip_ids(world.a)
    pruned = retention.prune_account(world.a.account.pk, now=timezone.now())
    assert (pruned.expired, pruned.over_quota) == (0, 0)
    assert clip_ids(world.a) == before


def test_a_clip_part_over_the_sites_form_limit_is_accepted(world: World, settings):
    """Upload bodies have their own limit (RECORDINGS_MAX_CHUNK_BYTES): the site's 413 for large
    bodies (nvr/limits.py, DATA_UPLOAD_MAX_MEMORY_SIZE) does not apply to them."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    data = clip_bytes(50_000)
    response = create(world.a.tokens[0], data, body=data)
    assert response.status_code == 201, response.content
    assert stored_clip(world.a.account.pk, response["Recording-Id"]) == data
