"""Errors of the clip storage layer.

Every way an encrypted file can fail to open (another household's key or id,
another object's id, a tampered, truncated or reordered file) is one
``DecryptionError``: callers answer it like a missing file and never say why.
"""

__all__ = [
    "ChecksumMismatch",
    "DataKeyError",
    "DecryptionError",
    "ObjectExists",
    "RangeNotSatisfiable",
    "StorageError",
]


class StorageError(Exception):
    """Base class of the storage layer's errors."""


class DecryptionError(StorageError):
    """The file (or wrapped key) does not authenticate under the given key and ids."""


class DataKeyError(DecryptionError):
    """A wrapped data key does not unwrap: another household's, tampered, or an unknown key version."""


class ChecksumMismatch(StorageError, ValueError):
    """The uploaded bytes' SHA-256 is not the one the uploader announced; nothing was stored."""


class RangeNotSatisfiable(StorageError, ValueError):
    """The byte range is outside the file (HTTP 416)."""


class ObjectExists(StorageError, FileExistsError):
    """An object is already stored under this name; files are never overwritten."""
