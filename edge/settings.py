"""Settings of the HTTP edge."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from drafter.config import DEFAULT_EDGE_HOST, DEFAULT_EDGE_PORT, CommonSettings
from drafter.edge.web.secret_key import check_secret_key


class EdgeSettings(CommonSettings):
    """Where the edge listens, where its services are, and the base URL it is reached at."""

    host: str = Field(DEFAULT_EDGE_HOST, validation_alias="DRAFTER_EDGE_HOST")
    port: int = Field(DEFAULT_EDGE_PORT, validation_alias="DRAFTER_EDGE_PORT")
    public_url: str | None = Field(None, validation_alias="DRAFTER_PUBLIC_URL")
    # Deadlines for calls to the services, in seconds. Chat and image calls wait on the
    # upstream model, whose own retries are bounded, so they get more room.
    accounts_timeout_s: float = 10.0
    upstream_timeout_s: float = 600.0
    # While a stream is silent (the model thinks), an SSE comment is sent this often.
    keepalive_s: float = Field(15.0, gt=0, validation_alias="DRAFTER_KEEPALIVE_S")
    # Signs session cookies and CSRF tokens; generated into the data dir when unset.
    secret_key: SecretStr | None = Field(None, validation_alias="DRAFTER_SECRET_KEY")
    # Rate limits (log-in, /oauth/token) are kept in Redis when set, else in process.
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    # Failed attempts allowed per window: log-ins per account and per IP, token calls per IP.
    login_failures_per_account: int = Field(
        5, ge=1, validation_alias="DRAFTER_LOGIN_FAILURES_PER_ACCOUNT"
    )
    login_failures_per_ip: int = Field(20, ge=1, validation_alias="DRAFTER_LOGIN_FAILURES_PER_IP")
    token_failures_per_ip: int = Field(10, ge=1, validation_alias="DRAFTER_TOKEN_FAILURES_PER_IP")
    rate_limit_window_s: int = Field(900, ge=1, validation_alias="DRAFTER_RATE_LIMIT_WINDOW_S")
    # Under ``drafter up``, call the services running in the same process directly
    # (drafter.rpc.local) instead of through their gRPC ports.
    in_process_calls: bool = Field(True, validation_alias="DRAFTER_IN_PROCESS_CALLS")

    _strong_secret = field_validator("secret_key")(check_secret_key)

    @property
    def base_url(self) -> str:
        """The URL clients reach the edge at, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
