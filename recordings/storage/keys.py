"""Per-household data keys, wrapped by a key-encryption key from the environment.

Each household has a random 32-byte *data key* that encrypts its files
(``chunked.py``). It is stored only wrapped (AES-256-GCM) under a
key-encryption key (KEK) that HKDF-SHA256 derives from ``NVR_MASTER_KEY``. The
household's id is the associated data, so a wrapped key copied onto another
household's row does not unwrap.

Wrapped layout (61 bytes)::

    version (1) | nonce (12, random) | AES-256-GCM(data key) (32) | tag (16)

    KEK = HKDF-SHA256(ikm=master key, salt=b"nvr/recordings/kek",
                      info=b"nvr/recordings/kek/v" + version, length=32)
    AAD = b"nvr/recordings/data-key" | version | account id (16 bytes)

The version byte names the master key that wrapped it; rotating the master key
later means adding a version (and the old master key, to unwrap with) and
re-wrapping every household's data key: the files themselves are untouched.
"""

import os
import uuid
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from recordings.storage.errors import DataKeyError

__all__ = [
    "CURRENT_KEY_VERSION",
    "DATA_KEY_SIZE",
    "WRAPPED_KEY_SIZE",
    "generate_data_key",
    "unwrap_data_key",
    "wrap_data_key",
    "wrapped_key_version",
]

DATA_KEY_SIZE = 32
CURRENT_KEY_VERSION = 1
_NONCE_SIZE = 12
_TAG_SIZE = 16
WRAPPED_KEY_SIZE = 1 + _NONCE_SIZE + DATA_KEY_SIZE + _TAG_SIZE
_KEK_SALT = b"nvr/recordings/kek"
_KEK_INFO = b"nvr/recordings/kek/v"
_AAD_LABEL = b"nvr/recordings/data-key"


def generate_data_key() -> bytes:
    """A new household's data key: 32 random bytes."""
    return os.urandom(DATA_KEY_SIZE)


def _master_key(version: int) -> str:
    # One version today. Rotation adds e.g. settings.NVR_PREVIOUS_MASTER_KEYS = {1: ...}.
    if version == CURRENT_KEY_VERSION:
        return str(settings.NVR_MASTER_KEY)
    raise DataKeyError(f"Unknown data key version {version}.")


@lru_cache(maxsize=8)
def _kek(master: str, version: int) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_KEK_SALT,
        info=_KEK_INFO + bytes([version]),
    ).derive(master.encode())
    return AESGCM(key)


def _aad(account_id: uuid.UUID, version: int) -> bytes:
    if not isinstance(account_id, uuid.UUID):
        raise TypeError("account_id must be a uuid.UUID")
    return _AAD_LABEL + bytes([version]) + account_id.bytes


def wrap_data_key(account_id: uuid.UUID, key: bytes) -> bytes:
    """Wrap a household's data key under the current master key, bound to the household."""
    if len(key) != DATA_KEY_SIZE:
        raise ValueError(f"A data key is {DATA_KEY_SIZE} bytes.")
    version = CURRENT_KEY_VERSION
    nonce = os.urandom(_NONCE_SIZE)
    sealed = _kek(_master_key(version), version).encrypt(nonce, key, _aad(account_id, version))
    return bytes([version]) + nonce + sealed


def wrapped_key_version(wrapped: bytes) -> int:
    """The master key version a wrapped key was made with (for a future re-wrap job)."""
    if len(wrapped) != WRAPPED_KEY_SIZE:
        raise DataKeyError("Malformed wrapped data key.")
    return wrapped[0]


def unwrap_data_key(account_id: uuid.UUID, wrapped: bytes) -> bytes:
    """The household's data key; ``DataKeyError`` if it was wrapped for another household or altered."""
    version = wrapped_key_version(wrapped)
    nonce, sealed = wrapped[1 : 1 + _NONCE_SIZE], wrapped[1 + _NONCE_SIZE :]
    try:
        return _kek(_master_key(version), version).decrypt(nonce, sealed, _aad(account_id, version))
    except InvalidTag:
        raise DataKeyError("The data key does not unwrap for this household.") from None
