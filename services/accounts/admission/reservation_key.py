"""The key that signs reservation ids (:mod:`.reservations`): ``DRAFTER_RESERVATION_KEY``
when set (replicas of the accounts service that do not share a data directory must share
this), else a random key generated once into the data directory (``reservation_key``,
mode 0600). Only the accounts service reads it; it is never logged."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

KEY_FILE = "reservation_key"


def load_reservation_key(configured: SecretStr | None, data_dir: Path) -> bytes:
    """The configured key, or the one stored in ``data_dir`` (created on first use)."""
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode()
    path = data_dir / KEY_FILE
    try:
        return path.read_text().strip().encode()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key.encode()
