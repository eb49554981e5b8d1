"""A credential only the anthropic SDK can use (``services.chat.upstream.sdk``): requests go
through the SDK's own client, over our transport, and its exceptions come out as ours."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import orjson
import pytest

from drafter.services.chat.upstream.client import MessagesApi
from drafter.services.chat.upstream.config import UpstreamConfig
from drafter.services.chat.upstream.errors import error_from_upstream
from drafter.services.chat.upstream.exceptions import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from drafter.services.chat.upstream.sdk import SdkRequests
from drafter.services.chat.upstream.transport import UpstreamTransport
from tests.chat.upstream.test_client import PARAMS
from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import free_port


async def _api(base_url: str, credentials: Any, **options: Any) -> AsyncIterator[MessagesApi]:
    transport = UpstreamTransport()
    client = anthropic.AsyncAnthropic(
        base_url=base_url,
        credentials=credentials,
        http_client=anthropic.DefaultAsyncHttpxClient(transport=transport),
        **({"max_retries": 0} | options),
    )
    messages = MessagesApi(UpstreamConfig(base_url=base_url), transport, SdkRequests(client))
    try:
        yield messages
    finally:
        await messages.aclose()


async def _body(api: MessagesApi) -> bytes:
    async with api.open(PARAMS, stream=False) as response:
        return await response.aread()


@pytest.fixture
async def api(fake_anthropic: FakeAnthropic) -> AsyncIterator[MessagesApi]:
    async for messages in _api(fake_anthropic.base_url, anthropic.StaticToken("provided-token")):
        yield messages


async def test_the_providers_token_goes_through_the_sdks_own_path(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="via the SDK")

    assert b"via the SDK" in await _body(api)
    assert fake_anthropic.last_request.headers["authorization"] == "Bearer provided-token"
    assert api.key_health() == []  # one credential: no pool


async def test_an_error_status_is_ours_with_the_apis_words(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    refusal = Reply(status=400, error_type="invalid_request_error", error_message="no")
    fake_anthropic.enqueue(refusal)

    with pytest.raises(UpstreamStatusError) as raised:
        await _body(api)

    error = raised.value
    assert (error.status_code, error.error_type, error.api_message) == (
        400,
        "invalid_request_error",
        "no",
    )
    assert isinstance(error.__cause__, anthropic.BadRequestError)


async def test_the_passthrough_gets_an_error_status_as_an_answer(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(status=429, headers={"retry-after": "30"}))

    response = await api.send_once("/v1/messages", orjson.dumps(PARAMS), {})
    await response.aclose()

    assert response.status_code == 429 and len(fake_anthropic.requests) == 1


async def test_no_server_and_a_silent_server_are_ours(fake_anthropic: FakeAnthropic) -> None:
    token = anthropic.StaticToken("provided-token")
    async for messages in _api(f"http://127.0.0.1:{free_port()}", token):
        with pytest.raises(UpstreamConnectionError) as refused:
            await _body(messages)
        assert not isinstance(refused.value, UpstreamTimeoutError)

    fake_anthropic.enqueue(text="late", delay_s=0.5)
    async for messages in _api(fake_anthropic.base_url, token, timeout=0.2):
        with pytest.raises(UpstreamTimeoutError):
            await _body(messages)


async def test_a_failing_credential_provider_is_an_internal_error(
    fake_anthropic: FakeAnthropic,
) -> None:
    def provider() -> anthropic.AccessToken:
        raise anthropic.CredentialsError("the identity token file is empty")

    async for messages in _api(fake_anthropic.base_url, provider):
        with pytest.raises(UpstreamError) as raised:
            await _body(messages)

    assert type(raised.value) is UpstreamError
    assert "CredentialsError" in error_from_upstream(raised.value).message
    assert fake_anthropic.requests == []
