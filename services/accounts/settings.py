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
    # Status page history: seconds between probes of every component.
    status_probe_interval_s: float = Field(
        60.0, gt=0, validation_alias="DRAFTER_STATUS_PROBE_INTERVAL_S"
    )
    # Notification mail: smtp://user:pass@host:port (smtps:// for TLS); unset: logged.
    smtp_url: str | None = Field(None, validation_alias="DRAFTER_SMTP_URL")
    mail_from: str = Field("Drafter <noreply@localhost>", validation_alias="DRAFTER_MAIL_FROM")
    # Stored responses of the Responses API are deleted this many days after they were
    # stored. OpenAI's default: "Response objects are saved for 30 days by default"
    # (platform.openai.com, the conversation-state guide, as quoted at
    # https://community.openai.com/t/data-retention-for-model-response-need-clarification/1355501).
    responses_retention_days: float = Field(
        30.0, gt=0, validation_alias="DRAFTER_RESPONSES_RETENTION_DAYS"
    )

    @model_validator(mode="after")
    def _default_database_url(self) -> AccountsSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'drafter.db'}"
        return self
