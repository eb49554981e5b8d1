"""POST /v1/messages on a client of our own: the upstream's configuration (``config``),
the retry policy (``retry``, the anthropic SDK's rules) and the exceptions
(``exceptions``) are Drafter's, over our HTTP/1.1 transport (``transport``).

The anthropic SDK's ``AsyncAnthropic`` used to be the one place that knew how to talk to
Anthropic, but the request path had already left its per-request machinery
(typed-parameter transformation, a pydantic options model, URL parsing and header merging
per request, httpx2's client layers: a large share of a chat request's CPU, bench/
measures it) and only borrowed its configuration, retry rules and exception classes.
Importing the SDK for that cost a ``drafter up`` at rest 42 MB of its 156 MB (3,300 of
its modules) and 1.1 to 1.4 s of CPU at every start; what it lent is a few dozen lines in
the modules above. The SDK is still imported for a credential only it can use (a
profile, workload identity federation, whose tokens its provider machinery exchanges and
refreshes): such a client's requests go through the SDK's own request path (``sdk``),
with that one credential.

The request body is JSON built here with orjson, from parameters that are already in
the wire format (``to_anthropic``); the headers are ``config``'s, without
``Accept-Encoding`` (answers are small, and compressing them costs CPU at both ends).

Several API keys (``ANTHROPIC_API_KEYS``) are a ``KeyPool``: each attempt sends the key
it leased (held until the answer is closed). A 429 or 529 cools that key down, and when
another key is ready the next attempt goes to it at once, without the backoff wait, within
the same attempt budget (``max_retries`` + 1, so at most 3 upstream calls per request);
the status comes before any of the body, so the caller has seen nothing of the failed
attempt. When every key cools, the backoff applies as with one key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import httpx2
import orjson

from drafter.services.chat.upstream.config import UpstreamConfig, bearer
from drafter.services.chat.upstream.exceptions import (
    UpstreamConnectionError,
    UpstreamTimeoutError,
    status_error,
)
from drafter.services.chat.upstream.key_pool import KeyHealth, KeyPool, Lease
from drafter.services.chat.upstream.retry import retry_delay_s, should_retry

log = logging.getLogger("drafter.chat")

MESSAGES_PATH = "/v1/messages"
# Each attempt's number (0 for the first), in the header Anthropic's SDKs send it in.
RETRY_COUNT_HEADER = "x-stainless-retry-count"


class SdkRequests(Protocol):
    """Requests sent through the anthropic SDK's own client (``sdk.SdkRequests``)."""

    async def post(
        self, path: str, body: object, headers: Mapping[str, str], *, retries: bool
    ) -> httpx2.Response:
        """The answer to one request, its body unread: with ``retries``, a 2xx after the
        SDK's retries (failures raise ours); without, whatever its status, in one attempt."""
        ...

    async def aclose(self) -> None: ...


class MessagesApi:
    """Sends Messages API requests over ``transport`` as ``config`` says, one of its API
    keys per attempt (a pool of them, ``keys``); with ``sdk``, through the SDK's client
    instead (a credential only it can use: no pool)."""

    def __init__(
        self,
        config: UpstreamConfig,
        transport: httpx2.AsyncBaseTransport,
        sdk: SdkRequests | None = None,
    ):
        self._transport = transport
        self._sdk = sdk
        self._base_url = config.url
        self._url = httpx2.URL(self._base_url + MESSAGES_PATH)
        # What an answer being read keeps of its request: the line, not the prompt. One
        # for every call (nothing changes it).
        self._request_line = httpx2.Request("POST", self._url)
        self._timeout = config.timeouts()
        self._max_retries = config.max_retries
        self.keys = KeyPool(config.api_keys if sdk is None else ())
        # Without keys, the token's header (or none); with keys, each key's own.
        headers = config.headers()
        token = bearer(config.auth_token) if config.auth_token else {}
        self._headers = {**headers, **token}
        self._key_headers = {key.label: {**headers, **bearer(key.secret)} for key in self.keys.keys}

    def key_health(self) -> list[KeyHealth]:
        """The state of every upstream key (never the key itself)."""
        return self.keys.health()

    @contextlib.asynccontextmanager
    async def open(self, params: dict[str, Any], *, stream: bool) -> AsyncIterator[httpx2.Response]:
        """The upstream's answer (2xx), its body unread; closed when the block ends.
        Failures raise ``UpstreamStatusError``, ``UpstreamConnectionError`` or
        ``UpstreamTimeoutError`` after the retries."""
        body = {**params, "stream": stream}
        lease: Lease | None = None
        if self._sdk is None:
            response, lease = await self._send(orjson.dumps(body))
        else:
            response = await self._sdk.post(MESSAGES_PATH, body, {}, retries=True)
        del params, body  # the prompt is not kept while the answer is read
        try:
            yield response
        finally:
            try:
                await response.aclose()
            finally:
                if lease is not None:
                    lease.release()

    async def send_once(
        self, path: str, content: bytes, headers: Mapping[str, str]
    ) -> httpx2.Response:
        """One attempt at ``path`` (a path under the base URL, with its query string) with
        the configured credentials and headers, ``headers`` over them: the answer whatever
        its status, its body unread (the caller closes it). No retries: the Messages
        passthrough hands the upstream's answer to a client that retries as it chooses;
        only a 429 or 529 of one key moves to another ready key (at most ``max_retries``
        more attempts), since the client's retry would not change the key."""
        if self._sdk is not None:
            return await self._sdk.post(path, orjson.loads(content), headers, retries=False)
        url = httpx2.URL(self._base_url + path)
        for attempt in range(self._max_retries + 1):
            response, lease = await self._attempt(url, content, "0", headers)
            last = attempt == self._max_retries
            if not self._moves_on(response, lease) or last:
                if lease is not None:
                    response.stream = _LeasedStream(response.stream, lease)
                # As ``_send``'s: a stream keeps the request's line, not its body (the
                # prompt, often 100 KB from a coding agent) for as long as it lasts.
                response.request = httpx2.Request("POST", url)
                return response
            await self._discard(response, lease)
        raise AssertionError("unreachable: the last attempt returns")

    async def aclose(self) -> None:
        """Closes the SDK's client, if there is one, and the transport's connections."""
        try:
            if self._sdk is not None:
                await self._sdk.aclose()
        finally:
            await self._transport.aclose()

    async def _attempt(
        self,
        url: httpx2.URL,
        content: bytes,
        retry_count: str,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[httpx2.Response, Lease | None]:
        """One request with a leased key (released here unless an answer came): the answer,
        its body unread, and the lease; ``UpstreamConnectionError`` (or its
        ``UpstreamTimeoutError``) when none came."""
        lease = self.keys.lease() if self._key_headers else None
        headers = self._key_headers[lease.key.label] if lease is not None else self._headers
        request = httpx2.Request(
            "POST",
            url,
            headers={**headers, RETRY_COUNT_HEADER: retry_count, **(extra or {})},
            content=content,
            extensions={"timeout": self._timeout},
        )
        try:
            response = await self._transport.handle_async_request(request)
        except BaseException as exc:
            if lease is not None:
                lease.release()
            if isinstance(exc, httpx2.TimeoutException):
                raise UpstreamTimeoutError(f"{url.host}: {exc}") from exc
            if isinstance(exc, httpx2.TransportError):
                raise UpstreamConnectionError(f"{url.host}: {exc}") from exc
            raise
        response.request = request
        return response, lease

    def _moves_on(self, response: httpx2.Response, lease: Lease | None) -> bool:
        """Records the answer for the leased key; True when it cooled the key (429, 529)
        and another key (never the same one, even when its retry-after was 0) is ready to
        take the next attempt at once."""
        if lease is None:
            return False
        cooled = self.keys.record(lease.key, response.status_code, response.headers)
        if not cooled or len(self.keys) == 1:
            return False
        status, label = response.status_code, lease.key.label
        if self.keys.has_ready_key(other_than=lease.key):
            log.info("upstream key %s answered %d: cooling, next attempt on another", label, status)
            return True
        log.info("upstream key %s answered %d: cooling, no other key ready", label, status)
        return False

    async def _discard(self, response: httpx2.Response, lease: Lease | None) -> None:
        try:
            await response.aread()
            await response.aclose()
        finally:
            if lease is not None:
                lease.release()

    async def _send(self, content: bytes) -> tuple[httpx2.Response, Lease | None]:
        max_retries = self._max_retries
        for retries_taken in range(max_retries + 1):
            remaining = max_retries - retries_taken
            try:
                response, lease = await self._attempt(self._url, content, str(retries_taken))
            except UpstreamConnectionError:
                if remaining > 0:
                    await self._wait(retries_taken, remaining, None)
                    continue
                raise
            if response.is_success:
                if lease is not None:
                    self.keys.record(lease.key, response.status_code, response.headers)
                # A stream may stay open for minutes: it keeps the request's line, not its
                # body and headers (the prompt), which errors raised later do not need.
                response.request = self._request_line
                return response, lease
            moves_on = self._moves_on(response, lease)
            await self._discard(response, lease)
            if remaining > 0 and moves_on:
                continue
            if remaining > 0 and should_retry(response.status_code, response.headers):
                await self._wait(retries_taken, remaining, response.headers)
                continue
            raise status_error(response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _wait(
        self, retries_taken: int, remaining: int, headers: httpx2.Headers | None
    ) -> None:
        delay = retry_delay_s(retries_taken, headers)
        log.info("retrying %s in %.2f s (%d retries left)", MESSAGES_PATH, delay, remaining)
        await asyncio.sleep(delay)


class _LeasedStream(httpx2.AsyncByteStream):
    """A response body that releases its key's lease when it is closed."""

    def __init__(self, stream: httpx2.AsyncByteStream | httpx2.SyncByteStream, lease: Lease):
        self._stream = stream
        self._lease = lease
        self.wrapped_stream = stream  # read as it is (``transport.body_reader``)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._stream, httpx2.AsyncByteStream)
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            if isinstance(self._stream, httpx2.AsyncByteStream):
                await self._stream.aclose()
        finally:
            self._lease.release()
