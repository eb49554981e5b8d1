"""DRAFTER_SECRET_KEY: signs session cookies and CSRF tokens.

When it is not set, a random key is generated once and kept in the data directory
(``secret_key``, mode 0600), so sessions survive restarts. A key that is set must be strong:
weak or well-known values are refused at start (the rule is ``drafter.config``'s, shared
with every configured secret), and the refusal never quotes the key: the settings hide
their input in errors (``EdgeSettings``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from drafter.config import MIN_SECRET_CHARS, weak_secret_problem

KEY_FILE = "secret_key"


def check_secret_key(value: SecretStr | None) -> SecretStr | None:
    """Pydantic validator: refuses short, repetitive or placeholder secrets, saying why
    without quoting the key."""
    if value is None:
        return None
    problem = weak_secret_problem(value.get_secret_value())
    if problem:
        raise ValueError(
            f"DRAFTER_SECRET_KEY is too weak ({problem}): use at least {MIN_SECRET_CHARS} "
            "random characters, for example the output of "
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
