"""Settings of the chat service process."""

from __future__ import annotations

from pydantic import Field, SecretStr

from drafter.config import CommonSettings
from drafter.services.chat.prompt_cache import PromptCacheMode


class ChatSettings(CommonSettings):
    """The chat service's settings. ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL`` are the
    anthropic SDK's own names; when they are unset the SDK's other sources apply."""

    anthropic_api_key: SecretStr | None = Field(None, validation_alias="ANTHROPIC_API_KEY")
    # Several keys, comma-separated, spread over by the key pool (upstream/key_pool.py);
    # when set it wins over ANTHROPIC_API_KEY, which alone is a pool of one.
    anthropic_api_keys: SecretStr | None = Field(None, validation_alias="ANTHROPIC_API_KEYS")
    anthropic_base_url: str | None = Field(None, validation_alias="ANTHROPIC_BASE_URL")
    # Retries happen here once (the SDK's bounded retries with backoff and Retry-After),
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
        ``ANTHROPIC_API_KEY``); empty when neither is set."""
        if self.anthropic_api_keys is not None:
            keys = self.anthropic_api_keys.get_secret_value().split(",")
            return [key.strip() for key in keys if key.strip()]
        if self.anthropic_api_key is not None:
            return [self.anthropic_api_key.get_secret_value()]
        return []
