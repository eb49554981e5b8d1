"""The Messages API on our own client (``services.chat.upstream.client``), against the fake
upstream: the request the live API needs, the retry policy and the exceptions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import orjson
import pytest

from drafter.services.chat.main import build_messages_api
from drafter.services.chat.upstream.client import MessagesApi
from drafter.services.chat.upstream.config import ANTHROPIC_VERSION, UpstreamConfig
from drafter.services.chat.upstream.exceptions import (
    UpstreamConnectionError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from drafter.services.chat.upstream.transport import UpstreamTransport, body_reader
from tests.chat.conftest import chat_settings
from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import free_port

PARAMS: dict[str, Any] = {
    "model": "claude-haiku-4-5-20251001",
    "max_tokens": 32,
    "messages": [{"role": "user", "content": "Hello"}],
}
# What the API reads of a request besides its body and path.
READ_BY_THE_API = ("authorization", "content-type", "accept")


@pytest.fixture
def fake(fake_anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    fake_anthropic_server.reset()
    yield fake_anthropic_server
    fake_anthropic_server.reset()


async def _api(base_url: str, **options: Any) -> AsyncIterator[MessagesApi]:
    config = UpstreamConfig(**({"base_url": base_url, "api_keys": ("test-key",)} | options))
    messages = MessagesApi(config, UpstreamTransport())
    try:
        yield messages
    finally:
        await messages.aclose()


@pytest.fixture
async def api(fake: FakeAnthropic) -> AsyncIterator[MessagesApi]:
    async for messages in _api(fake.base_url, max_retries=2):
        yield messages


async def _body(api: MessagesApi, *, stream: bool = False) -> bytes:
    async with api.open(PARAMS, stream=stream) as response:
        return await response.aread()


async def test_the_request_carries_what_the_live_api_needs(
    api: MessagesApi, fake: FakeAnthropic
) -> None:
    await _body(api)

    sent = fake.last_request
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.body == {**PARAMS, "stream": False}
    assert sent.headers["authorization"] == "Bearer test-key"
    assert sent.headers["anthropic-version"] == ANTHROPIC_VERSION == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["user-agent"].startswith("Drafter")
    assert sent.headers["x-stainless-retry-count"] == "0"
    assert "accept-encoding" not in sent.headers  # answers are small: no compression
    assert "x-api-key" not in sent.headers


async def test_the_api_reads_the_same_request_as_the_sdks(
    api: MessagesApi, fake: FakeAnthropic
) -> None:
    sdk = anthropic.AsyncAnthropic(
        base_url=fake.base_url,
        api_key="test-key",
        default_headers={"anthropic-version": ANTHROPIC_VERSION},
    )
    try:
        await sdk.messages.create(**PARAMS, stream=False)
    finally:
        await sdk.close()
    await _body(api)

    by_sdk, ours = fake.requests
    assert (ours.method, ours.path, ours.body) == (by_sdk.method, by_sdk.path, by_sdk.body)
    assert [ours.headers[h] for h in READ_BY_THE_API] == [
        by_sdk.headers[h] for h in READ_BY_THE_API
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_the_answer_comes_unread_and_whole(
    api: MessagesApi, fake: FakeAnthropic, stream: bool
) -> None:
    fake.enqueue(text="Hi there")
    body = await _body(api, stream=stream)

    assert b"Hi there" in body or b"Hi" in body
    assert (b"event: message_start" in body) is stream


async def test_an_open_answer_keeps_neither_the_prompt_nor_the_headers_it_was_sent_with(
    api: MessagesApi, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="Hi there")
    async with api.open(PARAMS, stream=True) as response:
        # A stream may stay open for minutes: only the request line is kept.
        sent = response.request
        assert (sent.method, sent.url.path) == ("POST", "/v1/messages")
        assert sent.content == b""
        assert "authorization" not in sent.headers
        await response.aread()


async def test_a_leased_answer_is_read_straight_off_its_connection(
    api: MessagesApi, fake: FakeAnthropic
) -> None:
    for text in ("first", "second"):  # the key's lease is released when the answer closes
        fake.enqueue(text=text)
        content = orjson.dumps({**PARAMS, "stream": True})
        response = await api.send_once("/v1/messages", content, {})
        read = body_reader(response)
        assert hasattr(read, "__self__")  # the transport's own reader, not httpx2's iterator
        body = b""
        while (piece := await read()) is not None:
            body += piece
        await response.aclose()
        assert b"text_delta" in body and body.endswith(
            b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        )


async def test_error_statuses_are_retried_then_raised_with_the_apis_words(
    api: MessagesApi, fake: FakeAnthropic
) -> None:
    fast = {"retry-after-ms": "5"}
    fake.enqueue(*(Reply(status=529, headers=fast) for _ in range(3)))

    with pytest.raises(UpstreamStatusError) as raised:
        await _body(api)

    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]
    error = raised.value
    assert (error.status_code, error.error_type) == (529, "overloaded_error")
    assert error.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert error.headers["retry-after-ms"] == "5"


async def test_an_upstream_that_says_not_to_retry_is_not_retried(
    api: MessagesApi, fake: FakeAnthropic
) -> None:
    fake.enqueue(Reply(status=529, headers={"x-should-retry": "false"}))

    with pytest.raises(UpstreamStatusError):
        await _body(api)

    assert len(fake.requests) == 1


async def test_an_upstream_that_says_to_retry_a_client_error_is_retried(
    api: MessagesApi, fake: FakeAnthropic
) -> None:
    fake.enqueue(Reply(status=400, headers={"x-should-retry": "true", "retry-after-ms": "5"}))
    fake.enqueue(text="second time")

    assert b"second time" in await _body(api)
    assert len(fake.requests) == 2


async def test_a_client_error_is_not_retried(api: MessagesApi, fake: FakeAnthropic) -> None:
    fake.enqueue(Reply(status=400, error_type="invalid_request_error", error_message="bad"))

    with pytest.raises(UpstreamStatusError, match="bad") as raised:
        await _body(api)

    assert (raised.value.status_code, raised.value.api_message) == (400, "bad")
    assert len(fake.requests) == 1


async def test_no_server_is_a_connection_error_after_the_retries() -> None:
    async for messages in _api(f"http://127.0.0.1:{free_port()}", max_retries=1):
        with pytest.raises(UpstreamConnectionError) as raised:
            await _body(messages)
        assert not isinstance(raised.value, UpstreamTimeoutError)


async def test_a_silent_server_is_a_timeout(fake: FakeAnthropic) -> None:
    fake.enqueue(text="late", delay_s=0.5)
    async for messages in _api(fake.base_url, max_retries=0, timeout_s=0.2):
        with pytest.raises(UpstreamTimeoutError):
            await _body(messages)


async def test_a_token_is_sent_as_a_bearer_token_without_a_key_pool(fake: FakeAnthropic) -> None:
    async for messages in _api(fake.base_url, api_keys=(), auth_token="a-token"):
        await _body(messages)
        assert messages.key_health() == []

    assert fake.last_request.headers["authorization"] == "Bearer a-token"


async def test_without_credentials_the_request_goes_out_without_any(fake: FakeAnthropic) -> None:
    async for messages in _api(fake.base_url, api_keys=()):
        fake.enqueue(Reply(status=401, error_type="authentication_error"))
        with pytest.raises(UpstreamStatusError):
            await _body(messages)

    assert "authorization" not in fake.last_request.headers


async def test_custom_headers_go_with_every_request_but_not_over_the_version(
    fake: FakeAnthropic,
) -> None:
    custom = {"x-team": "drafters", "anthropic-version": "1999-01-01"}
    async for messages in _api(fake.base_url, custom_headers=custom):
        await _body(messages)

    assert fake.last_request.headers["x-team"] == "drafters"
    assert fake.last_request.headers["anthropic-version"] == ANTHROPIC_VERSION


async def test_the_services_client_is_used_as_configured(fake: FakeAnthropic) -> None:
    settings = chat_settings(
        fake, upstream_max_retries=0, anthropic_custom_headers="X-Team: drafters\nbroken"
    )
    messages = await build_messages_api(settings)
    try:
        fake.enqueue(Reply(status=529, headers={"retry-after-ms": "5"}))
        with pytest.raises(UpstreamStatusError):
            await _body(messages)
        assert len(fake.requests) == 1  # max_retries 0: no retry
        assert fake.last_request.headers["x-team"] == "drafters"
        assert [k.label for k in messages.keys.keys] == ["key-1"]  # ANTHROPIC_API_KEY
    finally:
        await messages.aclose()


async def test_the_services_client_sends_the_auth_token_when_no_key_is_set(
    fake: FakeAnthropic,
) -> None:
    settings = chat_settings(fake, anthropic_api_key=None, anthropic_auth_token="env-token")
    messages = await build_messages_api(settings)
    try:
        await _body(messages)
    finally:
        await messages.aclose()

    assert fake.last_request.headers["authorization"] == "Bearer env-token"
