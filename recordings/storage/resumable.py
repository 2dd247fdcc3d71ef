"""An encrypted container filled by several requests (resumable uploads).

Same format as ``chunked`` (a file made here reads back with
``open_decrypted_range``), written differently: the plaintext size is known
before the first byte arrives (the upload's declared length), so the header
carries it from the start, and the chunk that reaches it is sealed as the last
one. Each append seals whole chunks only (every append but the last is a
multiple of the chunk size), so no plaintext is ever kept on disk or between
requests: the file always holds sealed chunks and nothing else.

An append starts at the position its plaintext offset maps to and truncates
the file there first, so bytes left by an interrupted earlier append (written,
but never acknowledged by the database's offset) are overwritten, never kept.
"""

import hashlib
import os
import uuid
from collections.abc import Callable
from typing import IO, Final

from recordings.storage.chunked import (
    _BOUND_HEADER_SIZE,
    _HEADER,
    DEFAULT_CHUNK_SIZE,
    FILE_ID_SIZE,
    FORMAT_VERSION,
    HEADER_SIZE,
    MAGIC,
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    TAG_SIZE,
    _check_inputs,
    _context,
    _read_exactly,
    _Sealer,
    ciphertext_size_for,
    open_decrypted_range,
)
from recordings.storage.errors import DecryptionError, StorageError

__all__ = ["AppendError", "append", "ciphertext_offset", "decrypted_sha256", "start", "sync", "tail_tag"]

_NO_TAG: Final = b""


class AppendError(StorageError, ValueError):
    """An append that does not fit the container (offset, size, or a short body)."""


def ciphertext_offset(offset: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Where the chunk holding plaintext ``offset`` starts (``offset`` on a chunk boundary)."""
    return HEADER_SIZE + (offset // chunk_size) * (chunk_size + TAG_SIZE)


def start(
    fileobj: IO[bytes],
    *,
    data_key: bytes,
    account_id: uuid.UUID,
    object_id: uuid.UUID,
    kind: str,
    length: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> None:
    """Write the header of a container that will hold exactly ``length`` plaintext bytes."""
    _check_inputs(data_key, account_id, object_id, kind)
    if length <= 0:
        raise AppendError("A resumable container holds at least one byte.")
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE}.")
    fileobj.seek(0)
    fileobj.truncate()
    fileobj.write(_HEADER.pack(MAGIC, FORMAT_VERSION, 0, 0, chunk_size, os.urandom(FILE_ID_SIZE), length))
    fileobj.flush()


def _header(fileobj: IO[bytes]) -> tuple[bytes, int, int]:
    fileobj.seek(0)
    raw = _read_exactly(fileobj, HEADER_SIZE)
    if len(raw) != HEADER_SIZE:
        raise DecryptionError("Not an encrypted clip file (too short).")
    magic, version, flags, reserved, chunk_size, _file_id, length = _HEADER.unpack(raw)
    if magic != MAGIC or version != FORMAT_VERSION or flags or reserved:
        raise DecryptionError("Not a resumable encrypted clip file.")
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError("Encrypted clip file has an invalid chunk size.")
    return raw[:_BOUND_HEADER_SIZE], chunk_size, length


def append(
    fileobj: IO[bytes],
    *,
    data_key: bytes,
    account_id: uuid.UUID,
    object_id: uuid.UUID,
    kind: str,
    offset: int,
    count: int,
    read: Callable[[int], bytes],
    on_plaintext: Callable[[bytes], None] | None = None,
) -> int:
    """Seal ``count`` bytes from ``read`` at plaintext ``offset``; return the new offset.

    ``fileobj`` is open for reading and writing (``r+b``). ``offset`` must be on a
    chunk boundary, and ``count`` a whole number of chunks unless it ends the
    file. ``on_plaintext`` sees each chunk's plaintext before it is sealed (the
    running SHA-256). Holds one chunk of plaintext at a time. On any error the
    file is cut back to where the append started.
    """
    kind_field = _check_inputs(data_key, account_id, object_id, kind)
    bound, chunk_size, length = _header(fileobj)
    if offset % chunk_size or not 0 <= offset < length:
        raise AppendError(f"Offset {offset} is not a chunk boundary ({chunk_size} bytes) inside the file.")
    end = offset + count
    if count <= 0 or end > length:
        raise AppendError(f"{count} bytes at offset {offset} do not fit in a file of {length} bytes.")
    if end < length and count % chunk_size:
        raise AppendError(
            f"Every part but the last must be a multiple of {chunk_size} bytes (the encryption chunk); got {count}."
        )
    sealer = _Sealer(data_key, bound, _context(account_id, object_id, kind_field))
    final_index = (length - 1) // chunk_size
    origin = ciphertext_offset(offset, chunk_size)
    current = fileobj.seek(0, os.SEEK_END)
    if current < origin:
        raise AppendError("The partial file is shorter than its recorded offset.")
    if current > origin:
        # Only when needed: on ext4 a truncate makes the kernel write the file's dirty pages
        # out first (auto_da_alloc), ~17 ms per request on an 8 MiB part.
        fileobj.truncate(origin)
    fileobj.seek(origin)
    position = offset
    try:
        while position < end:
            want = min(chunk_size, end - position)
            plain = _read_body(read, want)
            if len(plain) != want:
                raise AppendError(f"The body ended after {position - offset + len(plain)} of {count} bytes.")
            if on_plaintext is not None:
                on_plaintext(plain)
            index = position // chunk_size
            last = index == final_index
            fileobj.write(sealer.aead.encrypt(_Sealer.nonce(index), plain, sealer.aad(index, last)))
            position += want
        fileobj.flush()
    except BaseException:
        fileobj.seek(origin)
        fileobj.truncate()
        fileobj.flush()
        raise
    return end


def sync(fileobj: IO[bytes]) -> None:
    """Flush the container to disk: before a complete one is published, a crash must not lose its tail."""
    fileobj.flush()
    os.fsync(fileobj.fileno())


def _read_body(read: Callable[[int], bytes], count: int) -> bytes:
    first = read(count)
    if len(first) == count or not first:
        return first
    parts = [first]
    remaining = count - len(first)
    while remaining:
        part = read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def tail_tag(fileobj: IO[bytes], offset: int) -> bytes:
    """The authentication tag of the chunk that ends at plaintext ``offset`` (b"" at 0).

    Identifies what the file holds up to ``offset``: a cached running hash is
    only used if the tag it was computed with is still the file's.
    """
    if offset == 0:
        return _NO_TAG
    _bound, chunk_size, length = _header(fileobj)
    if offset == length:
        position = ciphertext_size_for(length, chunk_size)
    elif offset % chunk_size == 0 and offset < length:
        position = ciphertext_offset(offset, chunk_size)
    else:
        return _NO_TAG
    fileobj.seek(position - TAG_SIZE)
    return _read_exactly(fileobj, TAG_SIZE)


def decrypted_sha256(
    fileobj: IO[bytes], *, data_key: bytes, account_id: uuid.UUID, object_id: uuid.UUID, kind: str
) -> str:
    """The SHA-256 of a complete container's plaintext, by decrypting it (``DecryptionError`` if it fails)."""
    _bound, _chunk_size, length = _header(fileobj)
    digest = hashlib.sha256()
    pieces = open_decrypted_range(
        fileobj,
        data_key=data_key,
        account_id=account_id,
        object_id=object_id,
        kind=kind,
        start=0,
        end_inclusive=length - 1,
    )
    for piece in pieces:
        digest.update(piece)
    return digest.hexdigest()
