"""The key that signs reservation ids (:mod:`.reservations`): ``DRAFTER_RESERVATION_KEY``
when set (replicas of the accounts service that do not share a data directory must share
this), else a random key generated once into the data directory (``reservation_key``,
mode 0600). Only the accounts service reads it; it is never logged."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from drafter.config import stored_secret

KEY_FILE = "reservation_key"


def load_reservation_key(configured: SecretStr | None, data_dir: Path) -> bytes:
    """The configured key, or the one stored in ``data_dir`` (created on first use)."""
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode()
    return stored_secret(data_dir, KEY_FILE).encode()
