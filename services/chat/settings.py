"""Settings of the chat service process."""

from __future__ import annotations

from pydantic import Field, SecretStr

from drafter.config import CommonSettings
from drafter.services.chat.prompt_cache import PromptCacheMode


class ChatSettings(CommonSettings):
    """The chat service's settings. The upstream's variables are the anthropic SDK's own
    names (``ANTHROPIC_API_KEY``, ``ANTHROPIC_AUTH_TOKEN``, ``ANTHROPIC_BASE_URL``,
    ``ANTHROPIC_CUSTOM_HEADERS``), read as it reads them; without a key or a token, the
    SDK's other credential sources apply (``upstream/sdk.py``)."""

    anthropic_api_key: SecretStr | None = Field(None, validation_alias="ANTHROPIC_API_KEY")
    # Several keys, comma-separated, spread over by the key pool (upstream/key_pool.py);
    # when set it wins over ANTHROPIC_API_KEY, which alone is a pool of one.
    anthropic_api_keys: SecretStr | None = Field(None, validation_alias="ANTHROPIC_API_KEYS")
    # Sent as a Bearer token when no API key is set (the SDK's precedence).
    anthropic_auth_token: SecretStr | None = Field(None, validation_alias="ANTHROPIC_AUTH_TOKEN")
    anthropic_base_url: str | None = Field(None, validation_alias="ANTHROPIC_BASE_URL")
    # ``name: value`` lines, sent with every upstream request.
    anthropic_custom_headers: str | None = Field(None, validation_alias="ANTHROPIC_CUSTOM_HEADERS")
    # Retries happen here once (bounded, with backoff and Retry-After: upstream/retry.py),
    # never stacked on the edge's or the caller's.
    upstream_max_retries: int = Field(
        2, ge=0, le=10, validation_alias="DRAFTER_CHAT_UPSTREAM_MAX_RETRIES"
    )
    upstream_timeout_s: float = Field(
        600.0, gt=0, validation_alias="DRAFTER_CHAT_UPSTREAM_TIMEOUT_S"
    )
    upstream_connect_timeout_s: float = Field(
        5.0, gt=0, validation_alias="DRAFTER_CHAT_UPSTREAM_CONNECT_TIMEOUT_S"
    )
    # Signed thinking blocks of tool-calling turns, kept for the next turn of the loop:
    # in Redis when REDIS_URL is set, else in process (TTL + LRU).
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    thinking_ttl_s: float = Field(3600.0, gt=0, validation_alias="DRAFTER_CHAT_THINKING_TTL_S")
    thinking_max_entries: int = Field(
        10_000, ge=1, validation_alias="DRAFTER_CHAT_THINKING_MAX_ENTRIES"
    )
    # "auto": prompt-cache breakpoints on the stable prefix and the last user turn when
    # the caller placed none; "off": only the caller's (services/chat/prompt_cache.py).
    prompt_cache: PromptCacheMode = Field("auto", validation_alias="DRAFTER_PROMPT_CACHE")

    def upstream_api_keys(self) -> list[str]:
        """The configured API keys in order (``ANTHROPIC_API_KEYS``, else
        ``ANTHROPIC_API_KEY``); empty when neither is set (an empty value is unset, as
        the SDK reads it)."""
        if self.anthropic_api_keys is not None:
            keys = self.anthropic_api_keys.get_secret_value().split(",")
            return [key.strip() for key in keys if key.strip()]
        if self.anthropic_api_key is not None and self.anthropic_api_key.get_secret_value():
            return [self.anthropic_api_key.get_secret_value()]
        return []

    def upstream_auth_token(self) -> str | None:
        """``ANTHROPIC_AUTH_TOKEN`` when it is set and not empty."""
        if self.anthropic_auth_token is None:
            return None
        return self.anthropic_auth_token.get_secret_value() or None
