"""The Messages API on the SDK's client (``services.chat.upstream.client``), against the fake
upstream: the same request as the SDK's own, its retry policy and its exceptions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import httpx2
import orjson
import pytest

from drafter.services.chat.main import build_client
from drafter.services.chat.upstream.client import MessagesApi
from drafter.services.chat.upstream.transport import UpstreamTransport, body_reader
from tests.chat.conftest import chat_settings
from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import free_port

PARAMS: dict[str, Any] = {
    "model": "claude-haiku-4-5-20251001",
    "max_tokens": 32,
    "messages": [{"role": "user", "content": "Hello"}],
}
# What differs from one request to the next, or between the SDK's two request paths.
# (We ask for no compression: bodies are small, and gzip costs CPU at both ends.)
PER_REQUEST = {"content-length", "x-stainless-retry-count", "accept-encoding", "connection"}


@pytest.fixture
def fake(fake_anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    fake_anthropic_server.reset()
    yield fake_anthropic_server
    fake_anthropic_server.reset()


async def _api(
    base_url: str, **options: Any
) -> AsyncIterator[tuple[MessagesApi, anthropic.AsyncAnthropic]]:
    transport = UpstreamTransport()
    client = anthropic.AsyncAnthropic(
        base_url=base_url,
        http_client=anthropic.DefaultAsyncHttpxClient(transport=transport),
        **({"api_key": "test-key"} | options),
    )
    try:
        yield MessagesApi(client, transport), client
    finally:
        await client.close()


@pytest.fixture
async def api(fake: FakeAnthropic) -> AsyncIterator[tuple[MessagesApi, anthropic.AsyncAnthropic]]:
    async for pair in _api(fake.base_url, max_retries=2):
        yield pair


async def _body(api: MessagesApi, *, stream: bool = False) -> bytes:
    async with api.open(PARAMS, stream=stream) as response:
        return await response.aread()


def _headers(request: Any) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k not in PER_REQUEST}


async def test_the_request_is_the_one_the_sdk_sends(
    api: tuple[MessagesApi, anthropic.AsyncAnthropic], fake: FakeAnthropic
) -> None:
    messages, client = api

    await client.messages.create(**PARAMS, stream=False)
    await _body(messages)

    by_sdk, ours = fake.requests
    assert (ours.method, ours.path) == (by_sdk.method, by_sdk.path) == ("POST", "/v1/messages")
    assert ours.body == by_sdk.body == {**PARAMS, "stream": False}
    assert _headers(ours) == _headers(by_sdk)
    assert ours.headers["x-stainless-retry-count"] == "0"


@pytest.mark.parametrize("stream", [False, True])
async def test_the_answer_comes_unread_and_whole(
    api: tuple[MessagesApi, anthropic.AsyncAnthropic], fake: FakeAnthropic, stream: bool
) -> None:
    fake.enqueue(text="Hi there")
    body = await _body(api[0], stream=stream)

    assert b"Hi there" in body or b"Hi" in body
    assert (b"event: message_start" in body) is stream


async def test_an_open_answer_keeps_neither_the_prompt_nor_the_headers_it_was_sent_with(
    api: tuple[MessagesApi, anthropic.AsyncAnthropic], fake: FakeAnthropic
) -> None:
    fake.enqueue(text="Hi there")
    async with api[0].open(PARAMS, stream=True) as response:
        # A stream may stay open for minutes: only the request line is kept.
        sent = response.request
        assert (sent.method, sent.url.path) == ("POST", "/v1/messages")
        assert sent.content == b""
        assert "x-api-key" not in sent.headers
        await response.aread()


async def test_a_leased_answer_is_read_straight_off_its_connection(
    api: tuple[MessagesApi, anthropic.AsyncAnthropic], fake: FakeAnthropic
) -> None:
    messages = api[0]
    for text in ("first", "second"):  # the key's lease is released when the answer closes
        fake.enqueue(text=text)
        content = orjson.dumps({**PARAMS, "stream": True})
        response = await messages.send_once("/v1/messages", content, {})
        read = body_reader(response)
        assert hasattr(read, "__self__")  # the transport's own reader, not httpx2's iterator
        body = b""
        while (piece := await read()) is not None:
            body += piece
        await response.aclose()
        assert b"text_delta" in body and body.endswith(
            b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        )


async def test_error_statuses_are_retried_as_the_sdk_does_then_raised_as_its_class(
    api: tuple[MessagesApi, anthropic.AsyncAnthropic], fake: FakeAnthropic
) -> None:
    fast = {"retry-after-ms": "5"}
    fake.enqueue(*(Reply(status=529, headers=fast) for _ in range(3)))

    with pytest.raises(anthropic.OverloadedError) as raised:
        await _body(api[0])

    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]
    assert raised.value.status_code == 529
    assert raised.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


async def test_an_upstream_that_says_not_to_retry_is_not_retried(
    api: tuple[MessagesApi, anthropic.AsyncAnthropic], fake: FakeAnthropic
) -> None:
    fake.enqueue(Reply(status=529, headers={"x-should-retry": "false"}))

    with pytest.raises(anthropic.OverloadedError):
        await _body(api[0])

    assert len(fake.requests) == 1


async def test_a_client_error_is_not_retried(
    api: tuple[MessagesApi, anthropic.AsyncAnthropic], fake: FakeAnthropic
) -> None:
    fake.enqueue(Reply(status=400, error_type="invalid_request_error", error_message="bad"))

    with pytest.raises(anthropic.BadRequestError, match="bad"):
        await _body(api[0])

    assert len(fake.requests) == 1


async def test_no_server_is_a_connection_error_after_the_retries() -> None:
    async for messages, _ in _api(f"http://127.0.0.1:{free_port()}", max_retries=1):
        with pytest.raises(anthropic.APIConnectionError) as raised:
            await _body(messages)
        assert not isinstance(raised.value, anthropic.APITimeoutError)


async def test_a_silent_server_is_a_timeout(fake: FakeAnthropic) -> None:
    fake.enqueue(text="late", delay_s=0.5)
    async for messages, _ in _api(fake.base_url, max_retries=0, timeout=0.2):
        with pytest.raises(anthropic.APITimeoutError):
            await _body(messages)


async def test_a_token_provider_goes_through_the_sdks_own_path(fake: FakeAnthropic) -> None:
    async for messages, _ in _api(
        fake.base_url, api_key=None, credentials=anthropic.StaticToken("provided-token")
    ):
        fake.enqueue(text="via the SDK")
        body = await _body(messages)

    assert b"via the SDK" in body
    assert fake.last_request.headers["authorization"] == "Bearer provided-token"


async def test_the_services_client_is_used_as_configured(fake: FakeAnthropic) -> None:
    settings = chat_settings(fake, upstream_max_retries=0)
    transport = UpstreamTransport()
    client = build_client(settings, transport)
    try:
        fake.enqueue(Reply(status=529, headers={"retry-after-ms": "5"}))
        with pytest.raises(anthropic.OverloadedError):
            await _body(MessagesApi(client, transport))
        assert len(fake.requests) == 1  # max_retries 0: no retry
        assert isinstance(client.timeout, httpx2.Timeout)
    finally:
        await client.close()
