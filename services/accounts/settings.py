"""Settings of the accounts service, read from the environment once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from drafter.config import CommonSettings


class AccountsSettings(CommonSettings):
    """Where the accounts state lives: the SQL database, Redis and the plan table."""

    database_url: str = Field("", validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    plans_file: Path | None = Field(None, validation_alias="DRAFTER_PLANS_FILE")

    @model_validator(mode="after")
    def _default_database_url(self) -> AccountsSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'drafter.db'}"
        return self
