"""Encrypted storage of clips and thumbnails (isolation layer 6, "Files").

- ``keys``: each household's data key, wrapped by the master key and bound to the household;
- ``chunked``: the encrypted container (AES-256-GCM in fixed-size chunks, so Range reads
  decrypt only what they need);
- ``backend``: ``ClipStorage``, server-generated names under a per-household prefix on any
  Django storage (local disk by default, S3-compatible through django-storages);
- ``resumable``: the container filled by several requests (uploads in progress).

``ClipStorage`` is the only way in: the rest of the app never touches the Django
``Storage``, the temporary folder, partial files or links itself (a test checks).
"""

from recordings.storage.backend import KINDS, ClipStorage, Readable, path_for
from recordings.storage.chunked import (
    DEFAULT_CHUNK_SIZE,
    EncryptedFileInfo,
    EncryptingWriter,
    open_decrypted_range,
    plaintext_size,
)
from recordings.storage.errors import (
    ChecksumMismatch,
    DataKeyError,
    DecryptionError,
    ObjectExists,
    RangeNotSatisfiable,
    StorageError,
)
from recordings.storage.keys import generate_data_key, unwrap_data_key, wrap_data_key

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "KINDS",
    "ChecksumMismatch",
    "ClipStorage",
    "DataKeyError",
    "DecryptionError",
    "EncryptedFileInfo",
    "EncryptingWriter",
    "ObjectExists",
    "RangeNotSatisfiable",
    "Readable",
    "StorageError",
    "generate_data_key",
    "open_decrypted_range",
    "path_for",
    "plaintext_size",
    "unwrap_data_key",
    "wrap_data_key",
]
