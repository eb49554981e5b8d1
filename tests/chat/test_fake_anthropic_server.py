"""The fake Anthropic server speaks the wire format the real SDK expects."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anthropic
import pytest
from anthropic.types import MessageParam

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse

ROOT = Path(__file__).resolve().parents[2]
HI: list[MessageParam] = [{"role": "user", "content": "hi there"}]


@pytest.fixture
async def client(fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test", max_retries=0)
    yield client
    await client.close()


async def test_json_reply_has_every_block_and_usage(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(
        text="answer",
        thinking="thought",
        tool_uses=[ToolUse("f", {"x": 1}, id="toolu_9")],
        usage={"cache_creation_input_tokens": 4},
    )

    message = await client.messages.create(model="m", max_tokens=50, messages=HI)

    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[2].input == {"x": 1}  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use"
    assert message.usage.cache_creation_input_tokens == 4
    assert fake.last_request.body["messages"] == HI
    assert fake.last_request.headers["authorization"] == "Bearer test"


async def test_default_reply_echoes_the_last_user_text_in_chunks(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    stream = await client.messages.create(model="m", max_tokens=50, messages=HI, stream=True)
    texts = [
        e.delta.text
        async for e in stream
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    ]  # type: ignore[union-attr]

    assert "".join(texts) == "Echo: hi there"
    assert len(texts) == fake.chunks
    assert fake.completed_streams == 1


async def test_malformed_request_is_a_400(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(model="m", max_tokens=50, messages=[])

    assert info.value.type == "invalid_request_error"


async def test_scripted_error_status_and_headers(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Reply(status=429, headers={"retry-after": "3"}, error_message="slow down"))

    with pytest.raises(anthropic.RateLimitError) as info:
        await client.messages.create(model="m", max_tokens=50, messages=HI)

    assert info.value.api_message == "slow down"
    assert info.value.response.headers["retry-after"] == "3"


def test_runs_as_its_own_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.anthropic_server", "--port", "0", "--chunks", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        client = anthropic.Anthropic(base_url=url, api_key="test", max_retries=0)
        message = client.messages.create(model="m", max_tokens=9, messages=HI)
        assert message.content[0].text == "Echo: hi there"  # type: ignore[union-attr]
        client.close()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
