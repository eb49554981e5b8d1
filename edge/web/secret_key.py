"""DRAFTER_SECRET_KEY: signs session cookies and CSRF tokens.

When it is not set, a random key is generated once and kept in the data directory
(``secret_key``, mode 0600), so sessions survive restarts. A key that is set must be strong:
weak or well-known values are refused at start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

KEY_FILE = "secret_key"
MIN_KEY_CHARS = 32
MIN_DISTINCT_CHARS = 10
_KNOWN_WEAK = ("changethis", "changeme", "change-me", "secret", "default", "password", "drafter")


def check_secret_key(value: SecretStr | None) -> SecretStr | None:
    """Pydantic validator: refuses short, repetitive or placeholder secrets."""
    if value is None:
        return None
    key = value.get_secret_value()
    lowered = key.lower()
    weak = (
        len(key) < MIN_KEY_CHARS
        or len(set(key)) < MIN_DISTINCT_CHARS
        or any(word in lowered for word in _KNOWN_WEAK)
    )
    if weak:
        raise ValueError(
            f"DRAFTER_SECRET_KEY is too weak: use at least {MIN_KEY_CHARS} random characters, "
            "for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    return value


def load_secret_key(configured: SecretStr | None, data_dir: Path) -> bytes:
    """The configured key, or the one stored in ``data_dir`` (created on first use)."""
    if configured is not None:
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
