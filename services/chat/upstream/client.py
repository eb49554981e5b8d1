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
the SDK's own request path instead, with that one credential.

Several API keys (``ANTHROPIC_API_KEYS``) are a ``KeyPool``: each attempt sends the key
it leased (held until the answer is closed). A 429 or 529 cools that key down, and when
another key is ready the next attempt goes to it at once, without the backoff wait, within
the same attempt budget (``max_retries`` + 1, so at most 3 upstream calls per request);
the status comes before any of the body, so the caller has seen nothing of the failed
attempt. When every key cools, the SDK's backoff applies as with one key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anthropic
import httpx2
import orjson
from anthropic._models import FinalRequestOptions

from drafter.services.chat.upstream.key_pool import KeyHealth, KeyPool, Lease

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
    """Sends Messages API requests over ``transport`` with ``client``'s configuration and,
    when ``keys`` holds any, one of those keys per attempt (by default the client's own
    API key, a pool of one)."""

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        transport: httpx2.AsyncBaseTransport,
        keys: KeyPool | None = None,
    ):
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
        # A token provider keeps its one credential (refreshed by the SDK): no pool.
        if keys is None:
            keys = KeyPool([client.api_key] if self._direct and client.api_key else [])
        self.keys = keys if self._direct else KeyPool([])
        # Each key's headers: the client's, its credential header(s) as the SDK writes them
        # for that key instead of the client's own.
        auth_names = {name.lower() for name in client.auth_headers}
        base = {k: v for k, v in self._headers.items() if k.lower() not in auth_names}
        self._key_headers = {
            key.label: {**base, **client.with_options(api_key=key.secret).auth_headers}
            for key in self.keys.keys
        }

    def key_health(self) -> list[KeyHealth]:
        """The state of every upstream key (never the key itself)."""
        return self.keys.health()

    @contextlib.asynccontextmanager
    async def open(self, params: dict[str, Any], *, stream: bool) -> AsyncIterator[httpx2.Response]:
        """The upstream's answer (2xx), its body unread; closed when the block ends.
        Failures raise the SDK's exceptions (``APIStatusError`` subclasses,
        ``APIConnectionError``, ``APITimeoutError``) after the SDK's retries."""
        body = {**params, "stream": stream}
        lease: Lease | None = None
        if self._direct:
            response, lease = await self._send(orjson.dumps(body))
        else:
            response = await self._client.post(
                MESSAGES_PATH,
                body=body,
                cast_to=httpx2.Response,
                options={"headers": _RAW_RESPONSE},
            )
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
        the client's credentials and headers, ``headers`` over them: the answer whatever
        its status, its body unread (the caller closes it). No retries: the Messages
        passthrough hands the upstream's answer to a client that retries as it chooses;
        only a 429 or 529 of one key moves to another ready key (at most ``max_retries``
        more attempts), since the client's retry would not change the key."""
        if not self._direct:
            return await self._send_through_sdk(path, content, headers)
        url = httpx2.URL(str(self._client.base_url).rstrip("/") + path)
        for attempt in range(self._client.max_retries + 1):
            response, lease = await self._attempt(url, content, "0", headers)
            last = attempt == self._client.max_retries
            if not self._moves_on(response, lease) or last:
                if lease is not None:
                    response.stream = _LeasedStream(response.stream, lease)
                return response
            await self._discard(response, lease)
        raise AssertionError("unreachable: the last attempt returns")

    def status_error(self, response: httpx2.Response) -> anthropic.APIStatusError:
        """The SDK's exception for an error answer (its body read), as ``open`` raises it."""
        return self._client._make_status_error_from_response(response)

    async def _send_through_sdk(
        self, path: str, content: bytes, headers: Mapping[str, str]
    ) -> httpx2.Response:
        """``send_once`` for a client whose credentials may be refreshed per request."""
        options: Any = {"headers": {**_RAW_RESPONSE, **headers}, "max_retries": 0}
        try:
            return await self._client.post(
                path, body=orjson.loads(content), cast_to=httpx2.Response, options=options
            )
        except anthropic.APIStatusError as exc:
            return exc.response

    async def _attempt(
        self,
        url: httpx2.URL,
        content: bytes,
        retry_count: str,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[httpx2.Response, Lease | None]:
        """One request with a leased key (released here unless an answer came): the answer,
        its body unread, and the lease; the SDK's connection errors when none came."""
        lease = self.keys.lease() if self._key_headers else None
        headers = self._key_headers[lease.key.label] if lease is not None else self._headers
        request = httpx2.Request(
            "POST",
            url,
            headers={**headers, "X-Stainless-Retry-Count": retry_count, **(extra or {})},
            content=content,
            extensions={"timeout": self._timeout},
        )
        try:
            response = await self._transport.handle_async_request(request)
        except BaseException as exc:
            if lease is not None:
                lease.release()
            if isinstance(exc, httpx2.TimeoutException):
                raise anthropic.APITimeoutError(request=request) from exc
            if isinstance(exc, httpx2.TransportError):
                raise anthropic.APIConnectionError(request=request) from exc
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
        client, max_retries = self._client, self._client.max_retries
        for retries_taken in range(max_retries + 1):
            remaining = max_retries - retries_taken
            try:
                response, lease = await self._attempt(self._url, content, str(retries_taken))
            except (anthropic.APITimeoutError, anthropic.APIConnectionError):
                if remaining > 0:
                    await self._wait(remaining, None)
                    continue
                raise
            if response.is_success:
                if lease is not None:
                    self.keys.record(lease.key, response.status_code, response.headers)
                # A stream may stay open for minutes: it keeps the request's line, not its
                # body and headers (the prompt), which errors raised later do not need.
                response.request = httpx2.Request("POST", self._url)
                return response, lease
            moves_on = self._moves_on(response, lease)
            await self._discard(response, lease)
            if remaining > 0 and moves_on:
                continue
            if remaining > 0 and client._should_retry(response):
                await self._wait(remaining, response.headers)
                continue
            raise client._make_status_error_from_response(response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _wait(self, remaining: int, headers: httpx2.Headers | None) -> None:
        delay = self._client._calculate_retry_timeout(remaining, self._retry_options, headers)
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
