"""Reasoning items' ``encrypted_content``: the upstream's signed thinking blocks, sealed
with a key derived from Drafter's secret key (``DRAFTER_SECRET_KEY``, else the one in the
data directory) so a client can neither read nor forge them, and opened again when they
come back.

AES-256-GCM (the ``cryptography`` package): a fresh 96-bit nonce per seal, the nonce and
the ciphertext with its tag in URL-safe base64 behind ``VERSION``. The key is HMAC-SHA256
of the secret with a label of its own, so it is no other key of Drafter's. Anything that
does not open (changed, truncated, sealed by another secret) is a 400 naming the item.

``cryptography`` is loaded at the first seal or opening, not with the app: about 8 MB of
resident memory that a process serving no reasoning items does not need.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from drafter.edge.errors import APIError, invalid_request

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "drs1."
_LABEL = b"drafter responses reasoning v1"
_NONCE_BYTES = 12

Item = dict[str, Any]


class Sealer:
    """Seals and opens reasoning content with one key."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, _LABEL, hashlib.sha256).digest()
        self._cipher: AESGCM | None = None

    def _aead(self) -> AESGCM:
        if self._cipher is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._cipher = AESGCM(self._key)
        return self._cipher

    def seal(self, content: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead().encrypt(nonce, content.encode(), _LABEL)
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, param: str) -> str:
        """The content ``token`` seals; a 400 naming ``param`` when it does not open."""
        if not token.startswith(VERSION):
            raise _not_ours(param)
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.urlsafe_b64decode(token[len(VERSION) :])
            opened = self._aead().decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _LABEL)
            return opened.decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise _not_ours(param) from None

    def open_items(self, items: list[Item], param: str | None = None) -> list[Item]:
        """``items`` with every reasoning item's ``encrypted_content`` opened (copies); a
        400 names ``param``, or by default the item in ``input``."""
        opened: list[Item] = []
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get("type") == "reasoning":
                token = item.get("encrypted_content")
                if isinstance(token, str) and token:
                    where = param or f"input[{i}].encrypted_content"
                    item = {**item, "encrypted_content": self.open(token, where)}
            opened.append(item)
        return opened


def _not_ours(param: str) -> APIError:
    return invalid_request(
        "The encrypted content of a reasoning item could not be verified: it was changed, "
        "or not issued by this server.",
        param,
    )


@lru_cache(maxsize=4)
def sealer(secret: bytes) -> Sealer:
    return Sealer(secret)
