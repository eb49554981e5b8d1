"""Credentials only the anthropic SDK can use: a profile (``ANTHROPIC_PROFILE``, or the
active one of its config directory) or workload identity federation, whose tokens its
provider machinery exchanges and refreshes per request.

This is the one module that imports the SDK, and ``main`` imports it only when the
settings hold no API key or token and the SDK's own credential sources are configured
(``config.sdk_credentials_configured``): the SDK costs the process some 40 MB and over a
second of start-up (``client``'s docstring). Such a client's requests go through the
SDK's own request path, its retries included, over our transport; its exceptions become
ours (``exceptions``) here, at the boundary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

import anthropic
import httpx2

from drafter.services.chat.upstream.config import USER_AGENT, UpstreamConfig
from drafter.services.chat.upstream.exceptions import (
    UnreadableAnswer,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)

# Asks the SDK to hand over the response unread (what ``with_streaming_response`` sets).
_RAW_RESPONSE = {"X-Stainless-Raw-Response": "stream"}


def open_telemetry_option(environ: Mapping[str, str]) -> Literal[False] | None:
    """The SDK's ``open_telemetry`` option: its default (spans to the registered tracer,
    as its ``ANTHROPIC_OPEN_TELEMETRY*`` variables say) once the operator has set up
    OpenTelemetry (any ``OTEL_*`` or those variables); otherwise off, since building
    spans nobody records costs CPU on every call."""
    configured = any(k.startswith(("OTEL_", "ANTHROPIC_OPEN_TELEMETRY")) for k in environ)
    return None if configured else False


async def sdk_requests(
    config: UpstreamConfig, transport: httpx2.AsyncBaseTransport
) -> SdkRequests | None:
    """The SDK's client with the credential it finds itself (over ``transport``, with
    ``config``'s base URL, timeouts, retry count and headers), or None when it finds none."""
    client = anthropic.AsyncAnthropic(
        base_url=config.base_url,  # None: ANTHROPIC_BASE_URL, the profile's, or Anthropic's
        max_retries=config.max_retries,
        timeout=anthropic.Timeout(config.timeout_s, connect=config.connect_timeout_s),
        http_client=anthropic.DefaultAsyncHttpxClient(transport=transport),
        default_headers={
            **config.custom_headers,
            "User-Agent": USER_AGENT,
            "anthropic-version": config.version,
        },
        open_telemetry=open_telemetry_option(os.environ),
    )
    if client.credentials is None:
        # Closing it only drops the transport's idle connections (there are none yet).
        await client.close()
        return None
    return SdkRequests(client)


class SdkRequests:
    """Requests through the SDK's client (``client.SdkRequests``)."""

    def __init__(self, client: anthropic.AsyncAnthropic) -> None:
        self.client = client

    @property
    def kind(self) -> str:
        """The kind of credential the SDK found (its provider's class), for the log."""
        return type(self.client.credentials).__name__

    async def post(
        self, path: str, body: object, headers: Mapping[str, str], *, retries: bool
    ) -> httpx2.Response:
        options: Any = {"headers": {**_RAW_RESPONSE, **headers}}
        if not retries:
            options["max_retries"] = 0
        try:
            return await self.client.post(path, body=body, cast_to=httpx2.Response, options=options)
        except anthropic.APIStatusError as exc:
            if not retries:
                return exc.response
            raise ours(exc) from exc
        except anthropic.AnthropicError as exc:
            raise ours(exc) from exc

    async def aclose(self) -> None:
        await self.client.close()


def ours(exc: anthropic.AnthropicError) -> UpstreamError:
    """The SDK's exception as ours."""
    if isinstance(exc, anthropic.APIStatusError):
        return UpstreamStatusError(exc.status_code, exc.body, exc.response.headers)
    if isinstance(exc, anthropic.APITimeoutError):
        return UpstreamTimeoutError(str(exc))
    if isinstance(exc, anthropic.APIConnectionError):
        return UpstreamConnectionError(str(exc))
    if isinstance(exc, anthropic.APIResponseValidationError):
        return UnreadableAnswer(str(exc))
    return UpstreamError(f"the anthropic SDK raised {type(exc).__name__}")
