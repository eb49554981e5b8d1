"""Secrets and ids: the credential prefixes, API key generation, SHA-256 digests of
high-entropy tokens, password hashing, row ids.

High-entropy tokens (API keys, client tokens, codes, session tokens) are stored as
SHA-256 hex digests and looked up by digest; passwords are stored as argon2 hashes.
Secrets are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_KEY_PREFIX = "dp_"
CLIENT_TOKEN_PREFIX = "dpai_ct_"
API_KEY_BYTES = 32  # token_urlsafe(32): 256 bits of entropy
DISPLAY_PREFIX_CHARS = 4  # "dp_" + 4 characters are shown in key lists

_password_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly generated key: the secret (shown once), its display prefix and digest."""

    secret: str
    prefix: str
    key_hash: str


def new_id() -> str:
    """A random 32-character hex id for rows (users, keys)."""
    return uuid.uuid4().hex


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a high-entropy token, as stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(presented_hash: str, stored_hash: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(presented_hash.encode(), stored_hash.encode())


def new_api_key() -> NewApiKey:
    secret = API_KEY_PREFIX + secrets.token_urlsafe(API_KEY_BYTES)
    prefix = secret[: len(API_KEY_PREFIX) + DISPLAY_PREFIX_CHARS]
    return NewApiKey(secret=secret, prefix=prefix, key_hash=hash_token(secret))


def new_password() -> str:
    """A random password for users created without one."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    """argon2id hash (slow on purpose: call it off the event loop)."""
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
