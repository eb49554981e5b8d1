"""Billing as OpenAI bills, against a real ``drafter up`` and the fake Anthropic server:
once content reached the client the request counts (one unit, tokens > 0) however it
ends; a request that sent nothing is refunded; a non-streamed request whose client
gives up is cancelled upstream and refunded."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import httpx

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import DrafterStack

CHAT = "/api/v1/chat/completions"


def _user(stack: DrafterStack) -> dict[str, str]:
    key = stack.create_user_with_key(f"bill-{uuid.uuid4().hex[:8]}@example.com")
    return {"Authorization": f"Bearer {key}"}


def _today(stack: DrafterStack, headers: dict[str, str], chat: int) -> dict[str, int]:
    """The usage API's today, once its chat count is ``chat`` (settling is asynchronous)."""
    deadline = time.monotonic() + 10
    while True:
        today = httpx.get(stack.api_url + "/usage", headers=headers).json()["today"]
        if today["chat"] == chat or time.monotonic() > deadline:
            return dict(today)
        time.sleep(0.1)


def _body(stream: bool) -> dict[str, object]:
    return {
        "model": "claude-haiku-4-5",
        "stream": stream,
        "messages": [{"role": "user", "content": "tell me a long story"}],
    }


async def _hang_up_after(stack: DrafterStack, headers: dict[str, str], frames: int) -> int:
    """Streams, and closes the connection after ``frames`` content frames; returns how
    many content frames arrived."""
    seen = 0
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", stack.base_url + CHAT, json=_body(True), headers=headers) as r,
    ):
        assert r.status_code == 200
        async for line in r.aiter_lines():
            if line.startswith("data: {") and '"content"' in line:
                seen += 1
                if seen >= frames:
                    break
    return seen


async def test_a_client_that_hangs_up_after_content_is_charged(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    headers = _user(drafter_up)
    fake_anthropic.enqueue(Reply(text="word " * 400, chunks=40, delay_s=0.05))
    assert await _hang_up_after(drafter_up, headers, 2) == 2
    assert await fake_anthropic.wait_for_disconnect(5.0)  # the upstream call was cancelled
    today = _today(drafter_up, headers, chat=1)
    assert today["chat"] == 1
    assert today["tokens"] > 0


async def test_a_client_that_hangs_up_before_content_is_refunded(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    headers = _user(drafter_up)
    fake_anthropic.enqueue(Reply(text="late", chunks=2, delay_s=3.0))
    async with httpx.AsyncClient(timeout=30) as client:
        request = client.post(drafter_up.base_url + CHAT, json=_body(True), headers=headers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(request, 1.0)
    assert await fake_anthropic.wait_for_disconnect(5.0)
    await asyncio.sleep(0.5)
    assert _today(drafter_up, headers, chat=0)["chat"] == 0


async def test_an_upstream_failure_after_content_is_charged(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    headers = _user(drafter_up)
    fake_anthropic.enqueue(Reply(text="word " * 100, chunks=10, error_after=6))
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(drafter_up.base_url + CHAT, json=_body(True), headers=headers)
    assert '"content"' in r.text and "error" in r.text and "[DONE]" not in r.text
    today = _today(drafter_up, headers, chat=1)
    assert today["chat"] == 1
    assert today["tokens"] > 0


async def test_an_abandoned_non_streamed_request_is_cancelled_upstream_and_refunded(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    headers = _user(drafter_up)
    fake_anthropic.enqueue(Reply(text="slow answer", chunks=10, delay_s=1.0))
    async with httpx.AsyncClient(timeout=30) as client:
        request = client.post(drafter_up.base_url + CHAT, json=_body(False), headers=headers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(request, 1.0)
    gone = time.monotonic()
    assert await fake_anthropic.wait_for_disconnect(5.0)
    assert time.monotonic() - gone < 2.0  # cancelled within about a second
    await asyncio.sleep(0.5)
    assert _today(drafter_up, headers, chat=0)["chat"] == 0
