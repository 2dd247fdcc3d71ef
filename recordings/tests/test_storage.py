"""Layer 6, files: encrypted clips under server-generated, per-household names.

Each attack is on the storage layer alone: a file copied under another
household, a wrapped key moved to another household, chunks swapped, cut or
flipped, another object's id. Every one must end in ``DecryptionError``.
"""

import hashlib
import io
import itertools
import os
import shutil
import time
import tracemalloc
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.storage import FileSystemStorage

from recordings.storage import chunked, keys
from recordings.storage.backend import PARTIAL_DIR, ClipStorage, path_for
from recordings.storage.chunked import HEADER_SIZE, TAG_SIZE, EncryptingWriter, open_decrypted_range, plaintext_size
from recordings.storage.errors import (
    ChecksumMismatch,
    DataKeyError,
    DecryptionError,
    ObjectExists,
    RangeNotSatisfiable,
)

CHUNK = 64 * 1024
SIZE = 10 * CHUNK + 1234  # ten full chunks and a partial one
A = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")
B = uuid.UUID("bbbbbbbb-0000-4000-8000-000000000002")


class CountingAESGCM:
    """AESGCM that counts decryptions (cryptography's class cannot be subclassed)."""

    decrypts = 0

    def __init__(self, key: bytes) -> None:
        self._inner = AESGCM(key)

    def encrypt(self, nonce, data, associated_data):
        return self._inner.encrypt(nonce, data, associated_data)

    def decrypt(self, nonce, data, associated_data):
        type(self).decrypts += 1
        return self._inner.decrypt(nonce, data, associated_data)


class Source:
    """``size`` pseudo-random bytes, produced as they are read (never all in memory)."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.block = os.urandom(1024 * 1024)
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        n = min(self.remaining, len(self.block) if size < 0 else size, len(self.block))
        self.remaining -= n
        data = self.block[:n]
        self.digest.update(data)
        return data


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def store(media: Path) -> ClipStorage:
    return ClipStorage(FileSystemStorage(location=media, base_url=None), chunk_size=CHUNK)


@pytest.fixture
def key_a() -> bytes:
    return keys.generate_data_key()


@pytest.fixture
def key_b() -> bytes:
    return keys.generate_data_key()


@pytest.fixture
def payload() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def clip(store: ClipStorage, key_a: bytes, payload: bytes) -> uuid.UUID:
    object_id = uuid.uuid4()
    store.write_encrypted(account_id=A, object_id=object_id, kind="clips", data_key=key_a, source=io.BytesIO(payload))
    return object_id


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def read(store: ClipStorage, object_id: uuid.UUID, key: bytes, start: int, end: int, account=A) -> bytes:
    return store.read_range(
        account_id=account, object_id=object_id, kind="clips", data_key=key, start=start, end_inclusive=end
    )


def encrypt(payload: bytes, key: bytes, object_id: uuid.UUID, chunk_size: int = CHUNK) -> bytearray:
    out = io.BytesIO()
    writer = EncryptingWriter(out, data_key=key, account_id=A, object_id=object_id, chunk_size=chunk_size)
    writer.write(payload)
    writer.close()
    return bytearray(out.getvalue())


def decrypt_all(blob: bytes | bytearray, key: bytes, object_id: uuid.UUID, account=A, size: int = SIZE) -> bytes:
    pieces = open_decrypted_range(
        io.BytesIO(bytes(blob)),
        data_key=key,
        account_id=account,
        object_id=object_id,
        start=0,
        end_inclusive=size - 1,
    )
    return b"".join(pieces)


def chunk_span(index: int) -> slice:
    start = HEADER_SIZE + index * (CHUNK + TAG_SIZE)
    return slice(start, start + CHUNK + TAG_SIZE)


# --- Round trips and ranges ----------------------------------------------------


def test_it_round_trips_a_multi_chunk_file_and_serves_every_kind_of_range(store, key_a, payload, clip, media):
    info_path = media / path_for(A, clip, "clips")
    assert info_path.stat().st_size == HEADER_SIZE + SIZE + 11 * TAG_SIZE
    assert store.plaintext_size(account_id=A, object_id=clip, kind="clips") == SIZE
    ranges = {
        "first byte": (0, 0),
        "last byte": (SIZE - 1, SIZE - 1),
        "across a chunk boundary": (CHUNK - 10, CHUNK + 9),
        "across several chunks": (CHUNK + 5, 4 * CHUNK + 7),
        "whole file": (0, SIZE - 1),
        "inside one chunk": (3 * CHUNK + 100, 3 * CHUNK + 5000),
        "the partial last chunk": (10 * CHUNK, SIZE - 1),
        "a whole chunk exactly": (2 * CHUNK, 3 * CHUNK - 1),
    }
    for label, (start, end) in ranges.items():
        assert read(store, clip, key_a, start, end) == payload[start : end + 1], label


def test_it_decrypts_only_the_chunks_a_range_covers(store, key_a, payload, clip, monkeypatch):
    monkeypatch.setattr(chunked, "AESGCM", CountingAESGCM)
    expectations = [
        ((3 * CHUNK + 100, 3 * CHUNK + 5000), 1),  # inside one chunk: exactly one decryption
        ((0, 0), 1),
        ((SIZE - 1, SIZE - 1), 1),
        ((CHUNK - 1, CHUNK), 2),
        ((0, SIZE - 1), 11),
    ]
    for (start, end), decrypts in expectations:
        CountingAESGCM.decrypts = 0
        assert read(store, clip, key_a, start, end) == payload[start : end + 1]
        assert CountingAESGCM.decrypts == decrypts, (start, end)


def test_it_reads_the_size_from_the_header_alone(key_a, monkeypatch):
    blob = encrypt(b"x" * (3 * CHUNK + 1), key_a, uuid.uuid4())
    monkeypatch.setattr(chunked, "AESGCM", CountingAESGCM)
    CountingAESGCM.decrypts = 0
    assert plaintext_size(io.BytesIO(bytes(blob))) == 3 * CHUNK + 1
    assert CountingAESGCM.decrypts == 0


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_it_handles_sizes_at_chunk_edges(size, key_a):
    object_id = uuid.uuid4()
    payload = os.urandom(size)
    blob = encrypt(payload, key_a, object_id)
    assert len(blob) == chunked.ciphertext_size_for(size, CHUNK)
    assert plaintext_size(io.BytesIO(bytes(blob))) == size
    if size:
        assert decrypt_all(blob, key_a, object_id, size=size) == payload
    else:
        with pytest.raises(RangeNotSatisfiable):
            decrypt_all(blob, key_a, object_id, size=1)


def test_it_gives_the_same_plaintext_back_whatever_the_write_sizes(key_a):
    object_id = uuid.uuid4()
    payload = os.urandom(5 * CHUNK + 17)
    out = io.BytesIO()
    writer = EncryptingWriter(out, data_key=key_a, account_id=A, object_id=object_id, chunk_size=CHUNK)
    offset = 0
    for size in (1, 0, CHUNK - 1, CHUNK, 3, 2 * CHUNK + 5, 0, CHUNK, 9):
        writer.write(payload[offset : offset + size])
        offset += size
        assert writer.max_buffered <= CHUNK
    assert offset == len(payload)
    info = writer.close()
    assert info.plaintext_size == len(payload)
    assert info.sha256_hex == hashlib.sha256(payload).hexdigest()
    assert info.ciphertext_size == len(out.getvalue())
    assert decrypt_all(out.getvalue(), key_a, object_id, size=len(payload)) == payload
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"more")


def test_it_refuses_ranges_outside_the_file(store, key_a, clip):
    for start, end in [(SIZE, SIZE), (0, SIZE), (5, 4), (-1, 3)]:
        with pytest.raises(RangeNotSatisfiable):
            read(store, clip, key_a, start, end)


# --- Another household ------------------------------------------------------------


def test_it_cannot_decrypt_a_file_copied_under_another_household(store, key_a, key_b, payload, clip, media):
    """The design card's promise: a file moved or copied under another account fails to decrypt."""
    stolen = uuid.uuid4()
    source = media / path_for(A, clip, "clips")
    for object_id in (clip, stolen):  # under B, with A's object id or one of B's own
        target = media / path_for(B, object_id, "clips")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        with pytest.raises(DecryptionError):  # B's key, B's id: what B's views would use
            read(store, object_id, key_b, 0, 10, account=B)
        with pytest.raises(DecryptionError):  # even A's key does not help under B's id
            read(store, object_id, key_a, 0, 10, account=B)
    # The same bytes still open where they belong.
    assert read(store, clip, key_a, 0, 10) == payload[:11]


def test_it_cannot_unwrap_a_data_key_as_another_household():
    key = keys.generate_data_key()
    wrapped = keys.wrap_data_key(A, key)
    assert len(wrapped) == keys.WRAPPED_KEY_SIZE
    assert keys.wrapped_key_version(wrapped) == keys.CURRENT_KEY_VERSION
    assert keys.unwrap_data_key(A, wrapped) == key
    assert keys.wrap_data_key(A, key) != wrapped  # a fresh nonce each time
    with pytest.raises(DataKeyError):
        keys.unwrap_data_key(B, wrapped)
    assert isinstance(DataKeyError(), DecryptionError)


def test_it_refuses_a_tampered_wrapped_key_or_an_unknown_version_or_another_master_key(settings):
    wrapped = keys.wrap_data_key(A, keys.generate_data_key())
    for index in (0, 5, 20, len(wrapped) - 1):
        broken = bytearray(wrapped)
        broken[index] ^= 0x01
        with pytest.raises(DataKeyError):
            keys.unwrap_data_key(A, bytes(broken))
    with pytest.raises(DataKeyError):
        keys.unwrap_data_key(A, wrapped[:-1])
    settings.NVR_MASTER_KEY = "another-master-key-0123456789abcdef0123456789"
    with pytest.raises(DataKeyError):
        keys.unwrap_data_key(A, wrapped)


def test_it_rejects_keys_of_the_wrong_size():
    with pytest.raises(ValueError, match="32 bytes"):
        keys.wrap_data_key(A, b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptingWriter(io.BytesIO(), data_key=b"short", account_id=A, object_id=uuid.uuid4())


# --- Tampering ---------------------------------------------------------------------


def test_it_detects_two_chunks_swapped(key_a, payload):
    object_id = uuid.uuid4()
    blob = encrypt(payload, key_a, object_id)
    one, two = chunk_span(1), chunk_span(2)
    blob[one], blob[two] = blob[two], blob[one]
    with pytest.raises(DecryptionError):
        decrypt_all(blob, key_a, object_id)


def test_it_detects_a_chunk_replaced_by_the_same_chunk_of_another_file(key_a, payload):
    object_id = uuid.uuid4()
    blob, other = encrypt(payload, key_a, object_id), encrypt(payload, key_a, object_id)
    blob[chunk_span(1)] = other[chunk_span(1)]  # same key, object and index: only the file id differs
    with pytest.raises(DecryptionError):
        decrypt_all(blob, key_a, object_id)


def test_it_detects_the_last_chunk_cut_off(key_a, payload):
    object_id = uuid.uuid4()
    blob = encrypt(payload, key_a, object_id)
    cut = blob[: chunk_span(10).start]
    with pytest.raises(DecryptionError, match="truncated"):
        decrypt_all(cut, key_a, object_id)
    # Cut at a chunk boundary and the header's size rewritten to match: chunk 9 was not sealed as the last one.
    cut[28:36] = (10 * CHUNK).to_bytes(8, "big")
    assert plaintext_size(io.BytesIO(bytes(cut))) == 10 * CHUNK
    with pytest.raises(DecryptionError, match="authenticate"):
        decrypt_all(cut, key_a, object_id, size=10 * CHUNK)
    # A few bytes off the end.
    with pytest.raises(DecryptionError):
        decrypt_all(blob[:-3], key_a, object_id)


def test_it_detects_one_flipped_byte_anywhere(key_a):
    object_id = uuid.uuid4()
    payload = os.urandom(2 * CHUNK + 10)
    blob = encrypt(payload, key_a, object_id)
    positions = [4, 8, 12, 20, 27, 35, HEADER_SIZE, HEADER_SIZE + CHUNK + 3, len(blob) - 20, len(blob) - 1]
    for position in positions:
        broken = bytearray(blob)
        broken[position] ^= 0x40
        with pytest.raises(DecryptionError):
            decrypt_all(broken, key_a, object_id, size=len(payload))


def test_it_refuses_another_object_id_kind_key_or_household(key_a, key_b, payload):
    object_id = uuid.uuid4()
    blob = bytes(encrypt(payload, key_a, object_id))
    attempts = [
        {"data_key": key_a, "account_id": A, "object_id": uuid.uuid4()},
        {"data_key": key_a, "account_id": A, "object_id": object_id, "kind": "thumbnails"},
        {"data_key": key_b, "account_id": A, "object_id": object_id},
        {"data_key": key_a, "account_id": B, "object_id": object_id},
    ]
    for attempt in attempts:
        with pytest.raises(DecryptionError):
            open_decrypted_range(io.BytesIO(blob), start=0, end_inclusive=0, **attempt)
    assert b"".join(open_decrypted_range(io.BytesIO(blob), data_key=key_a, account_id=A, object_id=object_id,
                                         start=0, end_inclusive=9)) == payload[:10]  # fmt: skip


def test_it_refuses_a_file_that_is_not_a_finished_container(key_a):
    object_id = uuid.uuid4()
    unfinished = io.BytesIO()
    writer = EncryptingWriter(unfinished, data_key=key_a, account_id=A, object_id=object_id, chunk_size=CHUNK)
    writer.write(b"abc")
    for blob in (b"", b"NVRC", b"MP4 " + bytes(100), unfinished.getvalue()):
        with pytest.raises(DecryptionError):
            plaintext_size(io.BytesIO(blob))


# --- Backend: names, writes, deletes -------------------------------------------------


def test_it_names_files_from_server_ids_only_and_rejects_unknown_kinds():
    account_id, object_id = uuid.uuid4(), uuid.uuid4()
    name = path_for(account_id, object_id, "clips")
    assert name == f"accounts/{account_id.hex}/clips/{object_id.hex[:2]}/{object_id.hex}.nvrc"
    assert path_for(account_id, object_id, "thumbnails").startswith(f"accounts/{account_id.hex}/thumbnails/")
    for kind in ("videos", "../clips", "clips/../../etc", "", "CLIPS", "evil.mp4"):
        with pytest.raises(ValueError, match="kind"):
            path_for(account_id, object_id, kind)
    for bad in (str(object_id), "../../etc/passwd", None):
        with pytest.raises(TypeError):
            path_for(account_id, bad, "clips")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            path_for(bad, object_id, "clips")  # type: ignore[arg-type]


def test_it_never_uses_the_clients_filename(store, key_a, media):
    object_id = uuid.uuid4()
    upload = io.BytesIO(b"video bytes")
    upload.name = "../../../etc/evil name.mp4"
    store.write_encrypted(account_id=A, object_id=object_id, kind="clips", data_key=key_a, source=upload)
    assert [p.relative_to(media).as_posix() for p in files_under(media)] == [path_for(A, object_id, "clips")]


def test_it_leaves_no_file_behind_on_a_checksum_mismatch(store, key_a, payload, media):
    object_id = uuid.uuid4()
    with pytest.raises(ChecksumMismatch):
        store.write_encrypted(
            account_id=A,
            object_id=object_id,
            kind="clips",
            data_key=key_a,
            source=io.BytesIO(payload),
            expected_sha256=hashlib.sha256(payload + b"!").hexdigest(),
        )
    assert files_under(media) == []
    assert not store.exists(account_id=A, object_id=object_id, kind="clips")
    with pytest.raises(ChecksumMismatch):
        store.write_encrypted(
            account_id=A, object_id=object_id, kind="clips", data_key=key_a, source=io.BytesIO(payload),
            expected_sha256="not-a-digest",
        )  # fmt: skip
    assert files_under(media) == []
    # The right checksum (any case) is accepted.
    info = store.write_encrypted(
        account_id=A, object_id=object_id, kind="clips", data_key=key_a, source=io.BytesIO(payload),
        expected_sha256=hashlib.sha256(payload).hexdigest().upper(),
    )  # fmt: skip
    assert info.sha256_hex == hashlib.sha256(payload).hexdigest()
    assert [p.relative_to(media).as_posix() for p in files_under(media)] == [path_for(A, object_id, "clips")]
    assert not list((media / PARTIAL_DIR).iterdir())


def test_it_leaves_no_file_behind_when_the_source_fails(store, key_a, media):
    class Broken(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 3:
                raise OSError("client went away")
            return b"x" * CHUNK

    with pytest.raises(OSError, match="went away"):
        store.write_encrypted(account_id=A, object_id=uuid.uuid4(), kind="clips", data_key=key_a, source=Broken())
    assert files_under(media) == []


def test_it_never_overwrites_a_stored_object(store, key_a, payload, clip, media):
    with pytest.raises(ObjectExists):
        store.write_encrypted(account_id=A, object_id=clip, kind="clips", data_key=key_a, source=io.BytesIO(b"other"))
    assert read(store, clip, key_a, 0, SIZE - 1) == payload
    assert len(files_under(media)) == 1


def test_it_never_overwrites_even_when_it_loses_a_race_for_the_name(store, key_a, payload, clip, media, monkeypatch):
    real_exists, calls = store.storage.exists, []

    def exists(name):  # the first check misses it: another writer saves it just after
        calls.append(name)
        return len(calls) > 1 and real_exists(name)

    monkeypatch.setattr(store.storage, "exists", exists)
    with pytest.raises(ObjectExists):
        store.write_encrypted(account_id=A, object_id=clip, kind="clips", data_key=key_a, source=io.BytesIO(b"other"))
    assert len(files_under(media)) == 1  # the storage's alternative name was removed again
    assert read(store, clip, key_a, 0, SIZE - 1) == payload


def test_it_moves_the_finished_file_into_place_with_a_rename(store, key_a, media, monkeypatch):
    renames = []
    real_rename = os.rename

    def rename(old, new):
        renames.append((Path(old).parent.name, Path(new).relative_to(media).as_posix()))
        real_rename(old, new)

    monkeypatch.setattr(os, "rename", rename)
    object_id = uuid.uuid4()
    store.write_encrypted(account_id=A, object_id=object_id, kind="clips", data_key=key_a, source=io.BytesIO(b"x"))
    assert renames == [(PARTIAL_DIR, path_for(A, object_id, "clips"))]


def test_it_deletes_idempotently_and_reports_existence(store, key_a, clip):
    assert store.exists(account_id=A, object_id=clip, kind="clips")
    assert not store.exists(account_id=A, object_id=clip, kind="thumbnails")
    assert not store.exists(account_id=B, object_id=clip, kind="clips")
    assert store.stored_size(account_id=A, object_id=clip, kind="clips") == HEADER_SIZE + SIZE + 11 * TAG_SIZE
    store.delete(account_id=A, object_id=clip, kind="clips")
    store.delete(account_id=A, object_id=clip, kind="clips")
    assert not store.exists(account_id=A, object_id=clip, kind="clips")
    with pytest.raises(FileNotFoundError):
        read(store, clip, key_a, 0, 0)


def test_it_stores_thumbnails_apart_from_clips(store, key_a, media):
    object_id = uuid.uuid4()
    for kind, body in (("clips", b"clip" * 1000), ("thumbnails", b"\xff\xd8jpeg")):
        store.write_encrypted(account_id=A, object_id=object_id, kind=kind, data_key=key_a, source=io.BytesIO(body))
        got = store.read_range(
            account_id=A, object_id=object_id, kind=kind, data_key=key_a, start=0, end_inclusive=len(body) - 1
        )
        assert got == body
    # A thumbnail put in the clip's place does not open as the clip.
    shutil.copyfile(media / path_for(A, object_id, "thumbnails"), media / path_for(A, object_id, "clips"))
    with pytest.raises(DecryptionError):
        read(store, object_id, key_a, 0, 0)


def test_it_uses_the_default_storage_from_settings(settings, tmp_path, key_a):
    location = tmp_path / "from-settings"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location), "base_url": None},
        },
    }
    store = ClipStorage(chunk_size=CHUNK)
    object_id = uuid.uuid4()
    store.write_encrypted(account_id=A, object_id=object_id, kind="clips", data_key=key_a, source=io.BytesIO(b"hi"))
    assert (location / path_for(A, object_id, "clips")).is_file()
    assert read(store, object_id, key_a, 0, 1) == b"hi"


def test_it_closes_the_file_when_a_stream_is_abandoned(store, key_a, key_b, payload, clip, monkeypatch):
    opened = []
    real_open = store.storage.open

    def tracking_open(name, mode="rb"):
        handle = real_open(name, mode)
        opened.append(handle)
        return handle

    monkeypatch.setattr(store.storage, "open", tracking_open)
    stream = store.open_range(
        account_id=A, object_id=clip, kind="clips", data_key=key_a, start=0, end_inclusive=SIZE - 1
    )
    assert next(stream) == payload[:CHUNK]
    stream.close()
    assert opened[0].closed
    with pytest.raises(DecryptionError):  # refused before any byte: the file is closed too
        store.open_range(account_id=A, object_id=clip, kind="clips", data_key=key_b, start=0, end_inclusive=0)
    assert len(opened) == 2
    assert opened[1].closed


# --- Memory and speed ----------------------------------------------------------------


def test_it_keeps_memory_bounded_while_writing_50_mb(store, key_a, media):
    total = 50 * 1000 * 1000
    chunk_size = 1024 * 1024
    out = (media.parent / "big.nvrc").open("w+b")
    writer = EncryptingWriter(out, data_key=key_a, account_id=A, object_id=uuid.uuid4(), chunk_size=chunk_size)
    source = Source(total)
    for size in itertools.cycle((7, chunk_size - 3, 3 * chunk_size + 11, 100)):  # odd write sizes
        block = source.read(size)
        if not block:
            break
        if size > chunk_size:  # more than one chunk in one write
            block += source.read(size - len(block))
        writer.write(block)
        assert writer.max_buffered <= chunk_size
    info = writer.close()
    out.close()
    assert info.plaintext_size == total
    assert writer.max_buffered <= chunk_size

    # And through the backend: Python allocations stay within a few chunks for a 50 MB upload.
    big = ClipStorage(store.storage, chunk_size=chunk_size)
    source = Source(total)
    tracemalloc.start()
    try:
        info = big.write_encrypted(account_id=A, object_id=uuid.uuid4(), kind="clips", data_key=key_a, source=source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.sha256_hex == source.digest.hexdigest()
    assert peak < 4 * chunk_size, f"peak {peak} bytes"


def test_it_reports_throughput(store, key_a, capsys):
    total = 64 * 1024 * 1024
    fast = ClipStorage(store.storage)  # the default 1 MiB chunks
    object_id = uuid.uuid4()
    began = time.perf_counter()
    fast.write_encrypted(account_id=A, object_id=object_id, kind="clips", data_key=key_a, source=Source(total))
    write_seconds = time.perf_counter() - began
    began = time.perf_counter()
    read_bytes = sum(
        len(piece)
        for piece in fast.open_range(
            account_id=A, object_id=object_id, kind="clips", data_key=key_a, start=0, end_inclusive=total - 1
        )
    )
    read_seconds = time.perf_counter() - began
    assert read_bytes == total
    with capsys.disabled():
        print(
            f"\nclip storage: encrypt+write {total / write_seconds / 1e6:.0f} MB/s, "
            f"read+decrypt {total / read_seconds / 1e6:.0f} MB/s (64 MiB, 1 MiB chunks, tmp disk, fsync)"
        )
