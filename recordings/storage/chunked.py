"""The encrypted container of clips and thumbnails (".nvrc").

Plaintext is cut into fixed-size chunks (1 MiB by default; the last one may be
shorter, and an empty file has one empty chunk) and each chunk is sealed with
AES-256-GCM on its own, so an HTTP Range read decrypts only the chunks it
covers.

Layout (integers big-endian)::

    offset  size
    0       4    magic b"NVRC"
    4       1    format version (1)
    5       1    flags (0; reserved)
    6       2    reserved (0)
    8       4    chunk size (plaintext bytes per chunk)
    12      16   file id: random per file
    28      8    plaintext size (written when the writer closes; 2**64-1 until then)
    36      ...  chunk 0 ciphertext | tag (16), chunk 1 ciphertext | tag, ...

    chunk i starts at 36 + i * (chunk size + 16)
    ciphertext size = 36 + plaintext size + 16 * max(1, ceil(plaintext size / chunk size))

Keys and nonces. Chunks are not sealed with the household's data key itself
but with a per-file key derived from it (the file id is the salt), as Tink's
streaming AEAD does::

    file key  = HKDF-SHA256(ikm=data key, salt=file id, info=b"nvr/recordings/chunk-key/v1")
    nonce(i)  = 4 zero bytes | i (8 bytes)

so nonces are unique per key by construction: no birthday bound across the
household's files, however many there are.

Associated data of chunk i binds it to its place::

    header[0:28] (magic, version, flags, reserved, chunk size, file id)
    | account id (16) | object id (16) | len(kind) (1) | kind (ascii)
    | i (8) | is-last (1)

A file read under another household's id or key, under another object's id
or kind, with chunks swapped or reordered, cut at a chunk boundary (the new
last chunk was not sealed as last) or with any byte changed fails with
``DecryptionError``. The plaintext size in the header is checked against the
file's length before anything is decrypted, and authenticated when the last
chunk (sealed as last, with its exact length) is read.
"""

import hashlib
import io
import math
import os
import struct
import uuid
from collections.abc import Generator
from dataclasses import dataclass
from typing import IO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from recordings.storage.errors import DecryptionError, RangeNotSatisfiable

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "HEADER_SIZE",
    "MAGIC",
    "TAG_SIZE",
    "EncryptedFileInfo",
    "EncryptingWriter",
    "ciphertext_size_for",
    "open_decrypted_range",
    "plaintext_size",
]

MAGIC: Final = b"NVRC"
FORMAT_VERSION: Final = 1
DEFAULT_CHUNK_SIZE: Final = 1024 * 1024
MIN_CHUNK_SIZE: Final = 16
MAX_CHUNK_SIZE: Final = 16 * 1024 * 1024
TAG_SIZE: Final = 16
FILE_ID_SIZE: Final = 16
_KEY_SIZE: Final = 32
_HEADER = struct.Struct(">4sBBHI16sQ")
HEADER_SIZE: Final = _HEADER.size  # 36
_BOUND_HEADER_SIZE: Final = 28  # everything but the plaintext size
_SIZE_OFFSET: Final = 28
_UNFINISHED: Final = 2**64 - 1
_CHUNK_KEY_INFO: Final = b"nvr/recordings/chunk-key/v1"


@dataclass(frozen=True, slots=True)
class EncryptedFileInfo:
    plaintext_size: int
    sha256_hex: str
    ciphertext_size: int


def ciphertext_size_for(plaintext_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """The exact stored size of a file of ``plaintext_size`` bytes."""
    return HEADER_SIZE + plaintext_size + TAG_SIZE * _chunk_count(plaintext_size, chunk_size)


def _chunk_count(size: int, chunk_size: int) -> int:
    return max(1, math.ceil(size / chunk_size))


def _check_inputs(data_key: bytes, account_id: uuid.UUID, object_id: uuid.UUID, kind: str) -> bytes:
    if len(data_key) != _KEY_SIZE:
        raise ValueError(f"A data key is {_KEY_SIZE} bytes.")
    if not isinstance(account_id, uuid.UUID) or not isinstance(object_id, uuid.UUID):
        raise TypeError("account_id and object_id must be uuid.UUID")
    encoded = kind.encode("ascii")
    if not 0 < len(encoded) < 256:
        raise ValueError("kind must be 1 to 255 ascii characters")
    return bytes([len(encoded)]) + encoded


class _Sealer:
    """The per-file AEAD and the fixed part of every chunk's associated data."""

    def __init__(self, data_key: bytes, bound_header: bytes, context: bytes) -> None:
        file_id = bound_header[12:28]
        key = HKDF(algorithm=hashes.SHA256(), length=_KEY_SIZE, salt=file_id, info=_CHUNK_KEY_INFO).derive(data_key)
        self.aead = AESGCM(key)
        self.prefix = bound_header + context

    def aad(self, index: int, last: bool) -> bytes:
        return self.prefix + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")

    @staticmethod
    def nonce(index: int) -> bytes:
        return index.to_bytes(12, "big")


def _context(account_id: uuid.UUID, object_id: uuid.UUID, kind_field: bytes) -> bytes:
    return account_id.bytes + object_id.bytes + kind_field


class EncryptingWriter:
    """Streams plaintext into an encrypted container on ``fileobj``.

    ``fileobj`` must be writable and seekable (the plaintext size is written into
    the header on ``close()``); the backend gives it a temporary file. The writer
    holds at most one chunk of plaintext (``max_buffered`` records the most it
    ever held), however large the stream.
    """

    def __init__(
        self,
        fileobj: IO[bytes],
        *,
        data_key: bytes,
        account_id: uuid.UUID,
        object_id: uuid.UUID,
        kind: str = "clips",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        kind_field = _check_inputs(data_key, account_id, object_id, kind)
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE}.")
        if not fileobj.seekable():
            raise ValueError("EncryptingWriter needs a seekable file (the size goes into the header at close).")
        self.chunk_size = chunk_size
        self.max_buffered = 0
        self._file = fileobj
        self._origin = fileobj.tell()
        header = _HEADER.pack(MAGIC, FORMAT_VERSION, 0, 0, chunk_size, os.urandom(FILE_ID_SIZE), _UNFINISHED)
        self._sealer = _Sealer(data_key, header[:_BOUND_HEADER_SIZE], _context(account_id, object_id, kind_field))
        self._buffer = bytearray()
        self._index = 0
        self._size = 0
        self._sha256 = hashlib.sha256()
        self._written = 0
        self._closed = False
        self._emit_raw(header)

    def _emit_raw(self, data: bytes) -> None:
        self._file.write(data)
        self._written += len(data)

    def _seal(self, plaintext: bytes | bytearray | memoryview, *, last: bool) -> None:
        index = self._index
        self._emit_raw(self._sealer.aead.encrypt(_Sealer.nonce(index), plaintext, self._sealer.aad(index, last)))
        self._index += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed EncryptingWriter")
        view = memoryview(data).cast("B")
        total = len(view)
        self._sha256.update(view)
        self._size += total
        chunk_size = self.chunk_size
        while view:
            if len(self._buffer) == chunk_size:
                # More data follows, so the held chunk is not the last one.
                self._seal(self._buffer, last=False)
                self._buffer.clear()
            if not self._buffer and len(view) > chunk_size:
                # A whole chunk with more behind it: seal it straight from the caller's bytes.
                self._seal(view[:chunk_size], last=False)
                view = view[chunk_size:]
                continue
            take = chunk_size - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            self.max_buffered = max(self.max_buffered, len(self._buffer))
        return total

    def close(self) -> EncryptedFileInfo:
        """Seal the last chunk, write the plaintext size into the header, and say what was written."""
        if self._closed:
            raise ValueError("EncryptingWriter already closed")
        self._closed = True
        self._seal(self._buffer, last=True)
        self._buffer = bytearray()
        end = self._file.tell()
        self._file.seek(self._origin + _SIZE_OFFSET)
        self._file.write(self._size.to_bytes(8, "big"))
        self._file.seek(end)
        self._file.flush()
        assert self._written == ciphertext_size_for(self._size, self.chunk_size)
        return EncryptedFileInfo(
            plaintext_size=self._size, sha256_hex=self._sha256.hexdigest(), ciphertext_size=self._written
        )


@dataclass(frozen=True, slots=True)
class _Header:
    bound: bytes
    chunk_size: int
    plaintext_size: int

    @property
    def chunk_count(self) -> int:
        return _chunk_count(self.plaintext_size, self.chunk_size)


def _read_exactly(fileobj: IO[bytes], count: int) -> bytes:
    parts: list[bytes] = []
    remaining = count
    while remaining:
        part = fileobj.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _read_header(fileobj: IO[bytes]) -> _Header:
    """Parse and sanity-check the header, and check the file's length against it.

    The header is not secret and not yet authenticated here: every field but the
    size is in each chunk's associated data, and the size is authenticated by the
    last chunk.
    """
    fileobj.seek(0)
    raw = _read_exactly(fileobj, HEADER_SIZE)
    if len(raw) != HEADER_SIZE:
        raise DecryptionError("Not an encrypted clip file (too short).")
    magic, version, flags, reserved, chunk_size, _file_id, size = _HEADER.unpack(raw)
    if magic != MAGIC:
        raise DecryptionError("Not an encrypted clip file (bad magic).")
    if version != FORMAT_VERSION or flags or reserved:
        raise DecryptionError(f"Unsupported encrypted clip format (version {version}, flags {flags}).")
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise DecryptionError("Encrypted clip file has an invalid chunk size.")
    if size == _UNFINISHED:
        raise DecryptionError("Encrypted clip file was never finished.")
    length = fileobj.seek(0, io.SEEK_END)
    if length != ciphertext_size_for(size, chunk_size):
        raise DecryptionError("Encrypted clip file is truncated or has trailing bytes.")
    return _Header(bound=raw[:_BOUND_HEADER_SIZE], chunk_size=chunk_size, plaintext_size=size)


def plaintext_size(fileobj: IO[bytes]) -> int:
    """The plaintext size, from the header alone (checked against the file's length, not decrypted)."""
    return _read_header(fileobj).plaintext_size


def open_decrypted_range(
    fileobj: IO[bytes],
    *,
    data_key: bytes,
    account_id: uuid.UUID,
    object_id: uuid.UUID,
    start: int,
    end_inclusive: int,
    kind: str = "clips",
) -> Generator[bytes, None, None]:
    """Plaintext bytes ``start..end_inclusive``, decrypting only the chunks that cover them.

    The header is checked and the first chunk decrypted before this returns, so a
    wrong key, household, object or a tampered file raises ``DecryptionError``
    here, before an HTTP response has started; a later chunk that fails raises
    while iterating. ``RangeNotSatisfiable`` for a range outside the file.
    The caller keeps ownership of ``fileobj`` (closes it).
    """
    kind_field = _check_inputs(data_key, account_id, object_id, kind)
    context = _context(account_id, object_id, kind_field)
    header = _read_header(fileobj)
    size = header.plaintext_size
    if not 0 <= start <= end_inclusive < size:
        raise RangeNotSatisfiable(f"Range {start}-{end_inclusive} is outside 0-{size - 1}.")
    sealer = _Sealer(data_key, header.bound, context)
    chunk_size = header.chunk_size
    first, last = start // chunk_size, end_inclusive // chunk_size
    final_index = header.chunk_count - 1

    def decrypt(index: int) -> bytes:
        is_last = index == final_index
        plain_length = size - index * chunk_size if is_last else chunk_size
        fileobj.seek(HEADER_SIZE + index * (chunk_size + TAG_SIZE))
        sealed = _read_exactly(fileobj, plain_length + TAG_SIZE)
        if len(sealed) != plain_length + TAG_SIZE:
            raise DecryptionError("Encrypted clip file is truncated.")
        try:
            return sealer.aead.decrypt(_Sealer.nonce(index), sealed, sealer.aad(index, is_last))
        except InvalidTag:
            raise DecryptionError(
                "Encrypted clip file does not authenticate (another household's or object's file, "
                "the wrong key, or a modified file)."
            ) from None

    def piece(index: int, plain: bytes) -> bytes:
        base = index * chunk_size
        lo = max(start - base, 0)
        hi = min(end_inclusive - base + 1, len(plain))
        return plain if lo == 0 and hi == len(plain) else plain[lo:hi]

    head = piece(first, decrypt(first))

    def chunks() -> Generator[bytes, None, None]:
        yield head
        for index in range(first + 1, last + 1):
            yield piece(index, decrypt(index))

    return chunks()
