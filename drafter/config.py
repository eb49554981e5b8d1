"""Settings shared by every Drafter process, read from the environment once at start.

Each process builds its own settings object in ``main()`` / ``create_app()`` and passes
it down; nothing here is instantiated at import time.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ACCOUNTS_ADDR = "127.0.0.1:50051"
DEFAULT_CHAT_ADDR = "127.0.0.1:50052"
DEFAULT_IMAGES_ADDR = "127.0.0.1:50053"
DEFAULT_EDGE_HOST = "127.0.0.1"
DEFAULT_EDGE_PORT = 8080


MIN_SECRET_CHARS = 32
MIN_DISTINCT_SECRET_CHARS = 10
_KNOWN_WEAK_WORDS = (
    "changethis",
    "changeme",
    "change-me",
    "secret",
    "default",
    "password",
    "drafter",
)


def weak_secret_problem(value: str) -> str | None:
    """Why a configured secret is too weak (never quoting it), or None when it is strong:
    short, repetitive or a placeholder."""
    if len(value) < MIN_SECRET_CHARS:
        return f"fewer than {MIN_SECRET_CHARS} characters"
    if len(set(value)) < MIN_DISTINCT_SECRET_CHARS:
        return f"fewer than {MIN_DISTINCT_SECRET_CHARS} distinct characters"
    lowered = value.lower()
    if any(word in lowered for word in _KNOWN_WEAK_WORDS):
        return "a placeholder word"
    return None


class ConfigError(ValueError):
    """Configuration that cannot be used (a table file that does not validate, say); the
    ``drafter`` command reports it as one line."""


class CommonSettings(BaseSettings):
    """What every process needs: where data lives and where its peers listen."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("./data"), validation_alias="DRAFTER_DATA_DIR")
    accounts_addr: str = Field(DEFAULT_ACCOUNTS_ADDR, validation_alias="DRAFTER_ACCOUNTS_ADDR")
    chat_addr: str = Field(DEFAULT_CHAT_ADDR, validation_alias="DRAFTER_CHAT_ADDR")
    images_addr: str = Field(DEFAULT_IMAGES_ADDR, validation_alias="DRAFTER_IMAGES_ADDR")
    # A TOML model table that replaces the built-in one (drafter/models.toml).
    models_file: Path | None = Field(None, validation_alias="DRAFTER_MODELS_FILE")
    log_level: str = Field("INFO", validation_alias=AliasChoices("DRAFTER_LOG_LEVEL", "LOG_LEVEL"))
    # Internal gRPC authentication (drafter/rpc/internal_auth.py): mutual TLS when the
    # three files are set, otherwise this shared token (generated into the data dir when
    # unset). Checked for strength where it is loaded, so an error never quotes it.
    internal_token: SecretStr | None = Field(None, validation_alias="DRAFTER_INTERNAL_TOKEN")
    grpc_tls_cert: Path | None = Field(None, validation_alias="DRAFTER_GRPC_TLS_CERT")
    grpc_tls_key: Path | None = Field(None, validation_alias="DRAFTER_GRPC_TLS_KEY")
    grpc_tls_ca: Path | None = Field(None, validation_alias="DRAFTER_GRPC_TLS_CA")
    grpc_reflection: bool = Field(False, validation_alias="DRAFTER_GRPC_REFLECTION")
    # Signs reservation ids (drafter/reservations.py): accounts signs them, chat checks
    # them; unset: generated into the data dir (processes that do not share a data dir
    # must share this). Never logged.
    reservation_key: SecretStr | None = Field(None, validation_alias="DRAFTER_RESERVATION_KEY")
    # A reservation still open this long after Authorize is settled as abandoned (and
    # no longer opens a chat request).
    reservation_deadline_s: float = Field(
        900.0, gt=0, validation_alias="DRAFTER_RESERVATION_DEADLINE_S"
    )

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


def stored_secret(data_dir: Path, file_name: str) -> str:
    """A random secret kept in ``data_dir/file_name`` (mode 0600), created on first use so
    it survives restarts; when several processes start at once, the first one's stands.
    For the secrets Drafter generates itself when none is configured."""
    path = data_dir / file_name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret
