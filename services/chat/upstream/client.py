"""POST /v1/messages on the anthropic SDK's client: its configuration, retries and errors,
without its per-request machinery.

The ``AsyncAnthropic`` client stays the one place that knows how to talk to Anthropic:
base URL, credentials, version and client headers (``default_headers``), timeout and
retry count come from it, and so do the retry policy (``_should_retry``,
``_calculate_retry_timeout``: ``x-should-retry``, ``retry-after(-ms)``, exponential
backoff with jitter) and the exception raised for an error status
(``_make_status_error_from_response``, which picks the class from the status and the
error type). Those are the SDK's ``BaseClient`` methods, which is why the SDK is pinned
below its next major version. What this module skips is the rest of the SDK's request
path: typed-parameter transformation, a pydantic options model, URL parsing and header
merging per request, and httpx2's client layers (auth, redirects, cookies): a large
share of a chat request's CPU (bench/ measures it).

The request body is JSON built here with orjson, from parameters that are already in
the wire format (``to_anthropic``); the headers are the SDK's, without
``Accept-Encoding`` (answers are small, and compressing them costs CPU at both ends). A
client whose credentials are a token provider (they may be refreshed per request) uses
the SDK's own request path instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
import orjson
from anthropic._models import FinalRequestOptions

log = logging.getLogger("drafter.chat")

MESSAGES_PATH = "/v1/messages"
# The API version every upstream request names. The anthropic SDK 2.x sends its own
# default (``anthropic._constants.ANTHROPIC_API_VERSION``, 2026-10-21), under which the
# live API refuses temperature, top_p and top_k; 2023-06-01, what Anthropic's own Claude
# Code sends, still takes them, and also takes everything else Drafter sends (adaptive
# thinking, output_config effort and format). ``build_client`` sets it as a default
# header, so both request paths below send it.
ANTHROPIC_VERSION = "2023-06-01"
# Asks the SDK to hand over the response unread (what ``with_streaming_response`` sets).
_RAW_RESPONSE = {"X-Stainless-Raw-Response": "stream"}


class MessagesApi:
    """Sends Messages API requests over ``transport`` with ``client``'s configuration."""

    def __init__(self, client: anthropic.AsyncAnthropic, transport: httpx2.AsyncBaseTransport):
        self._client = client
        self._transport = transport
        self._url = httpx2.URL(str(client.base_url).rstrip("/") + MESSAGES_PATH)
        timeout = client.timeout
        if not isinstance(timeout, httpx2.Timeout):
            timeout = httpx2.Timeout(timeout)
        self._timeout = timeout.as_dict()
        # The SDK's lowest layer of headers first, its default_headers over them.
        read = {"x-stainless-read-timeout": str(timeout.read)} if timeout.read is not None else {}
        headers = {"x-stainless-timeout": str(timeout.read), **read, **client.default_headers}
        self._headers = {k: v for k, v in headers.items() if isinstance(v, str)}
        self._retry_options = FinalRequestOptions.construct(method="post", url=MESSAGES_PATH)
        self._direct = client.credentials is None

    @contextlib.asynccontextmanager
    async def open(self, params: dict[str, Any], *, stream: bool) -> AsyncIterator[httpx2.Response]:
        """The upstream's answer (2xx), its body unread; closed when the block ends.
        Failures raise the SDK's exceptions (``APIStatusError`` subclasses,
        ``APIConnectionError``, ``APITimeoutError``) after the SDK's retries."""
        body = {**params, "stream": stream}
        if self._direct:
            response = await self._send(orjson.dumps(body))
        else:
            response = await self._client.post(
                MESSAGES_PATH,
                body=body,
                cast_to=httpx2.Response,
                options={"headers": _RAW_RESPONSE},
            )
        try:
            yield response
        finally:
            await response.aclose()

    async def _send(self, content: bytes) -> httpx2.Response:
        client, max_retries = self._client, self._client.max_retries
        for retries_taken in range(max_retries + 1):
            remaining = max_retries - retries_taken
            headers = {**self._headers, "X-Stainless-Retry-Count": str(retries_taken)}
            request = httpx2.Request(
                "POST",
                self._url,
                headers=headers,
                content=content,
                extensions={"timeout": self._timeout},
            )
            try:
                response = await self._transport.handle_async_request(request)
            except httpx2.TimeoutException as exc:
                if remaining > 0:
                    await self._wait(remaining, None)
                    continue
                raise anthropic.APITimeoutError(request=request) from exc
            except httpx2.TransportError as exc:
                if remaining > 0:
                    await self._wait(remaining, None)
                    continue
                raise anthropic.APIConnectionError(request=request) from exc
            response.request = request
            if response.is_success:
                return response
            await response.aread()
            await response.aclose()
            if remaining > 0 and client._should_retry(response):
                await self._wait(remaining, response.headers)
                continue
            raise client._make_status_error_from_response(response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _wait(self, remaining: int, headers: httpx2.Headers | None) -> None:
        delay = self._client._calculate_retry_timeout(remaining, self._retry_options, headers)
        log.info("retrying %s in %.2f s (%d retries left)", MESSAGES_PATH, delay, remaining)
        await asyncio.sleep(delay)
