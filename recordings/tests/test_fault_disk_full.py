"""Fault: the disk fills during an upload (issue 16).

``ENOSPC`` is injected where the upload writes, the partial file (the storage layer's
``partial_create``/``partial_open``), and where a finished upload gets its final name
(``publish``). The camera gets 507 with a readable message; no row and no file is left
half-written, and the household's other clips are untouched.
"""

import errno
import os
from typing import IO, Any

import pytest

from conftest import World
from recordings.storage.backend import ClipStorage
from recordings.storage.chunked import HEADER_SIZE, TAG_SIZE
from tools.upload_testing import (
    MIB,
    call,
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


class Disk:
    """How many bytes the disk has left for partial files (None: plenty)."""

    room: int | None = None


class FillingFile:
    """A partial file on a disk that fills: a write past the room left writes what fits,
    then raises ENOSPC, as the kernel does."""

    def __init__(self, file: IO[bytes], disk: Disk) -> None:
        self._file = file
        self._disk = disk

    def write(self, data: bytes) -> int:
        room = self._disk.room
        if room is not None and len(data) > room:
            self._file.write(bytes(data[:room]))
            self._disk.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if room is not None:
            self._disk.room = room - len(data)
        return self._file.write(data)

    def __enter__(self) -> "FillingFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    disk = Disk()
    real_create, real_open = ClipStorage.partial_create, ClipStorage.partial_open

    def partial_create(self: ClipStorage, *args: Any) -> Any:
        return FillingFile(real_create(self, *args), disk)

    def partial_open(self: ClipStorage, *args: Any) -> Any:
        file = real_open(self, *args)
        return None if file is None else FillingFile(file, disk)

    monkeypatch.setattr(ClipStorage, "partial_create", partial_create)
    monkeypatch.setattr(ClipStorage, "partial_open", partial_open)
    return disk


def snapshot(world: World) -> dict[str, Any]:
    """Both households' recordings, clip files and clip bytes: what must not change."""
    state: dict[str, Any] = {}
    for name, household in (("a", world.a), ("b", world.b)):
        ids = recording_ids(household.account.pk)
        state[name] = {
            "ids": ids,
            "files": clip_files(household.account.pk),
            "clips": {pk: stored_clip(household.account.pk, pk) for pk in ids},
        }
    return state


def assert_refused_as_full(response: Any) -> None:
    assert response.status_code == 507, response.content
    assert "storage is full" in response.json()["detail"]


def test_a_clip_in_one_request_on_a_full_disk_is_refused_and_leaves_nothing(world: World, disk: Disk):
    before = snapshot(world)
    data = clip_bytes(300_000)
    disk.room = 100_000  # the header fits, the body does not
    assert_refused_as_full(create(world.a.tokens[0], data, body=data, key="full-1"))
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []
    assert snapshot(world) == before
    # Room again: the same request succeeds (the key was not used up by the failure).
    disk.room = None
    again = create(world.a.tokens[0], data, body=data, key="full-1")
    assert again.status_code == 201, again.content
    assert stored_clip(world.a.account.pk, again["Recording-Id"]) == data


def test_an_upload_that_cannot_even_start_is_refused(world: World, disk: Disk):
    before = snapshot(world)
    disk.room = 0
    assert_refused_as_full(create(world.a.tokens[0], clip_bytes(2 * MIB)))
    assert uploads_of(world.a.account.pk) == []
    assert partial_files() == []
    assert snapshot(world) == before


def test_a_part_on_a_full_disk_is_refused_and_the_upload_resumes_from_its_last_offset(world: World, disk: Disk):
    before = snapshot(world)
    data = clip_bytes(3 * MIB + 5)
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    disk.room = MIB // 2  # the second part fills the disk halfway through
    assert_refused_as_full(patch(world.a.tokens[0], location, MIB, data[MIB : 2 * MIB]))
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == MIB
    [partial] = partial_files()
    # Cut back to the committed part: a header and one sealed chunk, none of the failed part.
    assert partial.stat().st_size == HEADER_SIZE + MIB + TAG_SIZE
    head = call("HEAD", world.a.tokens[0], location)
    assert head["Upload-Offset"] == str(MIB)
    assert snapshot(world) == before
    disk.room = None
    for offset in (MIB, 2 * MIB):
        assert patch(world.a.tokens[0], location, offset, data[offset : offset + MIB]).status_code == 204
    last = patch(world.a.tokens[0], location, 3 * MIB, data[3 * MIB :])
    assert last.status_code == 204
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data
    assert partial_files() == []


def test_a_full_disk_when_the_clip_gets_its_final_name_keeps_the_upload_resumable(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """On S3 or a filesystem without hard links, publishing copies the clip: it can fill the disk."""
    before = snapshot(world)
    real_publish = ClipStorage.publish

    def full(self: ClipStorage, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ClipStorage, "publish", full)
    data = clip_bytes(MIB + 3)
    location = create(world.a.tokens[0], data)["Location"]
    assert patch(world.a.tokens[0], location, 0, data[:MIB]).status_code == 204
    assert_refused_as_full(patch(world.a.tokens[0], location, MIB, data[MIB:]))
    [upload] = uploads_of(world.a.account.pk)
    assert upload.offset == MIB
    assert len(partial_files()) == 1
    assert snapshot(world) == before
    monkeypatch.setattr(ClipStorage, "publish", real_publish)
    last = patch(world.a.tokens[0], location, MIB, data[MIB:])
    assert last.status_code == 204
    assert stored_clip(world.a.account.pk, last["Recording-Id"]) == data
