"""Where the Messages API is and how it is called: one frozen value, read from the chat
service's settings at start (``main.upstream_config``), so the request path asks no SDK
client for its base URL, credentials, headers, timeouts or retry count.

It also knows when a credential is one only the anthropic SDK can use
(:func:`sdk_credentials_configured`): then, and only then, the SDK is imported
(``upstream.sdk``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

DEFAULT_BASE_URL = "https://api.anthropic.com"
# The API version every upstream request names. The anthropic SDK 2.x sends its own
# default (``anthropic._constants.ANTHROPIC_API_VERSION``, 2026-10-21), under which the
# live API refuses temperature, top_p and top_k; 2023-06-01, what Anthropic's own Claude
# Code sends, still takes them, and also takes everything else Drafter sends (adaptive
# thinking, output_config effort and format).
ANTHROPIC_VERSION = "2023-06-01"


def _user_agent() -> str:
    try:
        return f"Drafter/{metadata.version('drafter')}"
    except metadata.PackageNotFoundError:
        return "Drafter"


USER_AGENT = _user_agent()


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """The upstream's address, credentials, version, timeouts and retry count.

    ``api_keys`` are spread over by the key pool (``key_pool``); without any,
    ``auth_token`` (``ANTHROPIC_AUTH_TOKEN``) is the one credential; without either,
    requests go out without one, so the upstream's 401 says what is missing.
    """

    # None: Anthropic's own (or, for an SDK credential, its profile's: ``upstream.sdk``).
    base_url: str | None = None
    api_keys: tuple[str, ...] = ()
    auth_token: str | None = None
    version: str = ANTHROPIC_VERSION
    timeout_s: float = 600.0
    connect_timeout_s: float = 5.0
    max_retries: int = 2
    # ``ANTHROPIC_CUSTOM_HEADERS``, as the SDK reads it: sent with every request.
    custom_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The base URL requests' paths go under (no trailing slash)."""
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    def timeouts(self) -> dict[str, float]:
        """The transport's timeouts (a request's ``timeout`` extension): ``connect`` for a
        new connection, the rest (between two reads, while sending) the whole budget."""
        whole = self.timeout_s
        return {"connect": self.connect_timeout_s, "read": whole, "write": whole, "pool": whole}

    def headers(self) -> dict[str, str]:
        """The headers of every request, without a credential: JSON both ways, who sends
        it, the operator's custom headers, and the API version (never overridden)."""
        return {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **self.custom_headers,
            "anthropic-version": self.version,
        }


def bearer(secret: str) -> dict[str, str]:
    """The credential header of an API key or a token. The anthropic SDK 2.x sends either
    as ``Authorization: Bearer`` (``AsyncAnthropic.auth_headers``), and so do we."""
    return {"authorization": f"Bearer {secret}"}


def custom_headers(text: str | None) -> dict[str, str]:
    """``ANTHROPIC_CUSTOM_HEADERS`` read as the SDK reads it: one ``name: value`` a line
    (names lower-cased here, so one cannot send a header twice)."""
    headers: dict[str, str] = {}
    for line in (text or "").split("\n"):
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers


# The anthropic SDK's credential sources besides an API key or a token (its
# ``AsyncAnthropic`` constructor and ``anthropic.lib.credentials.default_credentials``,
# SDK 2.x): a profile named by ANTHROPIC_PROFILE, workload identity federation
# (ANTHROPIC_FEDERATION_RULE_ID, ANTHROPIC_ORGANIZATION_ID and ANTHROPIC_IDENTITY_TOKEN or
# ANTHROPIC_IDENTITY_TOKEN_FILE), or the active profile of its config directory
# (ANTHROPIC_CONFIG_DIR, else ~/.config/anthropic, %APPDATA%\Anthropic on Windows).
SDK_CREDENTIAL_VARIABLES = (
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_CONFIG_DIR",
    "ANTHROPIC_FEDERATION_RULE_ID",
    "ANTHROPIC_IDENTITY_TOKEN",
    "ANTHROPIC_IDENTITY_TOKEN_FILE",
)


def sdk_credentials_configured(environ: Mapping[str, str]) -> bool:
    """Whether the SDK might find a credential of its own here: one of its variables is
    set, or its config directory exists. The SDK itself then decides (``upstream.sdk``);
    this only spares every other deployment importing it."""
    if any(environ.get(name) for name in SDK_CREDENTIAL_VARIABLES):
        return True
    return _sdk_config_dir(environ).exists()


def _sdk_config_dir(environ: Mapping[str, str]) -> Path:
    if sys.platform == "win32":
        appdata = environ.get("APPDATA")
        return (Path(appdata) if appdata else Path.home() / "AppData" / "Roaming") / "Anthropic"
    return Path.home() / ".config" / "anthropic"
