"""Encryption at rest for broker credentials and tokens (Fernet, with key rotation).

``FIELD_ENCRYPTION_KEYS`` lists Fernet keys: the first encrypts, every one decrypts. To rotate,
put a new key first, deploy, run ``manage.py rotate_encryption_keys``, then drop the old key.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt_str(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS "
            "(was the key that encrypted it removed?)."
        ) from None


def rotate_str(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret cannot be decrypted for rotation.") from None
