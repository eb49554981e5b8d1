"""DRAFTER_SECRET_KEY: signs session cookies and CSRF tokens.

When it is not set, a random key is generated once and kept in the data directory
(``secret_key``, mode 0600), so sessions survive restarts. A key that is set must be strong:
weak or well-known values are refused at start (the rule is ``drafter.config``'s, shared
with every configured secret), and the refusal never quotes the key: the settings hide
their input in errors (``EdgeSettings``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from drafter.config import MIN_SECRET_CHARS, stored_secret, weak_secret_problem

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
    return stored_secret(data_dir, KEY_FILE).encode()
