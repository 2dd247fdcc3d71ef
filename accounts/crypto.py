"""Encryption at rest with a key per household.

Each household's key is derived from the master key (``NVR_MASTER_KEY``) and the
household's id with HKDF, so a value encrypted for one household cannot be
decrypted under another's key (Fernet authenticates, and fails loudly).
"""

import base64
import uuid
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "decrypt_for_account", "decrypt_personal", "encrypt_for_account", "encrypt_personal"]


@lru_cache(maxsize=1024)
def _fernet(master: str, account_id: uuid.UUID, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=account_id.bytes, info=f"nvr:{purpose}".encode()).derive(
        master.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_for_account(account_id: uuid.UUID, purpose: str, plaintext: str) -> str:
    return _fernet(settings.NVR_MASTER_KEY, account_id, purpose).encrypt(plaintext.encode()).decode()


def decrypt_for_account(account_id: uuid.UUID, purpose: str, token: str) -> str:
    """Raises ``InvalidToken`` for another household's (or a tampered) value."""
    return _fernet(settings.NVR_MASTER_KEY, account_id, purpose).decrypt(token.encode()).decode()


# Secrets that belong to a person rather than a household (their authenticator app's key).
_PERSONAL = uuid.UUID(int=0)


def encrypt_personal(purpose: str, plaintext: str) -> str:
    return encrypt_for_account(_PERSONAL, purpose, plaintext)


def decrypt_personal(purpose: str, token: str) -> str:
    return decrypt_for_account(_PERSONAL, purpose, token)
