"""Settings of the HTTP edge."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from drafter.config import DEFAULT_EDGE_HOST, DEFAULT_EDGE_PORT, CommonSettings
from drafter.edge.server.client_address import TrustedProxies
from drafter.edge.server.cors import CorsOrigins
from drafter.edge.server.stream_cap import DEFAULT_MAX_STREAMS
from drafter.edge.web.secret_key import check_secret_key

# Anthropic's API refuses request bodies over 32 MB; so does the edge, on every path.
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


class EdgeSettings(CommonSettings):
    """Where the edge listens, where its services are, and the base URL it is reached at."""

    # A refused value (a weak DRAFTER_SECRET_KEY) is never quoted in the error.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

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
    # Request bodies over this many bytes are answered 413 before they are read whole.
    max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES, ge=1024, validation_alias="DRAFTER_MAX_BODY_BYTES"
    )
    # A connection that has not sent a complete request head (request line and headers)
    # this many seconds after it opened or after its previous request is closed.
    header_timeout_s: float = Field(10.0, gt=0, validation_alias="DRAFTER_HEADER_TIMEOUT_S")
    # Streams open at once in this edge process; past it a new streaming request is
    # answered 503 with Retry-After (edge/server/stream_cap.py).
    max_streams: int = Field(DEFAULT_MAX_STREAMS, ge=1, validation_alias="DRAFTER_MAX_STREAMS")
    # Peers (comma-separated CIDRs or addresses, ``*`` for any) whose X-Forwarded-For is
    # believed (edge/server/client_address.py). FORWARDED_ALLOW_IPS, uvicorn's name for
    # it, is still read when DRAFTER_TRUSTED_PROXIES is not set.
    trusted_proxies: str = Field(
        "", validation_alias=AliasChoices("DRAFTER_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS")
    )
    # Origins (comma-separated ``http(s)://host[:port]``, ``*`` for any) whose pages may
    # call the API paths from a browser (edge/server/cors.py); empty for none. The pages,
    # sign-in and OAuth are never opened to other origins.
    cors_origins: str = Field("*", validation_alias="DRAFTER_CORS_ORIGINS")
    # Under ``drafter up``, call the services running in the same process directly
    # (drafter.rpc.local) instead of through their gRPC ports.
    in_process_calls: bool = Field(True, validation_alias="DRAFTER_IN_PROCESS_CALLS")

    _strong_secret = field_validator("secret_key")(check_secret_key)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        TrustedProxies.parse(value)  # a ValueError names the item that is wrong
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        CorsOrigins.parse(value)  # a ValueError names the item that is wrong
        return value

    @property
    def cors(self) -> CorsOrigins:
        return CorsOrigins.parse(self.cors_origins)

    @property
    def proxies(self) -> TrustedProxies:
        return TrustedProxies.parse(self.trusted_proxies)

    @property
    def base_url(self) -> str:
        """The URL clients reach the edge at, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
