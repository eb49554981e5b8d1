"""Chat completions end to end, when time passes or things fail: keep-alives while the
model thinks, a client that goes away, upstream retries, errors before and during a
stream. The official OpenAI SDK against ``drafter up`` and the fake Anthropic upstream."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import DrafterStack, start_drafter_up

HAIKU = "claude-haiku-4-5"
KEEPALIVE_S = 0.2


def new_key(stack: DrafterStack) -> str:
    return stack.create_user_with_key(f"chat-fail-{uuid.uuid4().hex[:8]}@example.com", "plus")


@pytest.fixture(scope="module")
def client(drafter_up: DrafterStack) -> openai.OpenAI:
    return openai.OpenAI(api_key=new_key(drafter_up), base_url=drafter_up.api_url, max_retries=0)


@pytest.fixture(scope="module")
def quick_keepalive_stack(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    """``drafter up`` whose streams send a keep-alive after 0.2 s of silence."""
    stack = start_drafter_up(
        tmp_path_factory.mktemp("keepalive"),
        anthropic_base_url=fake_anthropic_server.base_url,
        DRAFTER_KEEPALIVE_S=str(KEEPALIVE_S),
    )
    yield stack
    assert stack.stop() == 0, stack.output()


def user(text: str) -> Any:  # a message param; Any spares the SDK TypedDict overloads
    return {"role": "user", "content": text}


def test_keepalives_flow_while_the_model_thinks(
    quick_keepalive_stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(thinking="A long, slow thought.", text="Done.", chunks=2, delay_s=0.12)
    body = {
        "model": HAIKU,
        "messages": [user("think hard")],
        "stream": True,
        "thinking": "medium",
    }
    headers = {"Authorization": f"Bearer {new_key(quick_keepalive_stack)}"}
    url = f"{quick_keepalive_stack.api_url}/chat/completions"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]

    first_data = next(i for i, line in enumerate(lines) if '"content"' in line)
    assert lines[:first_data].count(": keep-alive") >= 2
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith(("data: ", ": keep-alive")) for line in lines)
    # The stock SDK skips the comments.
    sdk = openai.OpenAI(
        api_key=headers["Authorization"][7:], base_url=quick_keepalive_stack.api_url
    )
    fake_anthropic.enqueue(thinking="Slow.", text="Done.", chunks=2, delay_s=0.12)
    chunks = list(
        sdk.chat.completions.create(
            model=HAIKU, messages=[user("x")], stream=True, extra_body={"thinking": "medium"}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Done."


def test_a_client_that_goes_away_cancels_the_upstream_request(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="word " * 200, chunks=100, delay_s=0.05)
    stream = client.chat.completions.create(model=HAIKU, messages=[user("x")], stream=True)
    next(iter(stream))
    stream.close()

    assert fake_anthropic.wait_for_disconnect_blocking(10)
    assert fake_anthropic.completed_streams == 0


def test_a_client_that_goes_away_before_the_first_token_cancels_the_upstream_request(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="word " * 20, chunks=4, delay_s=3.0)  # slow to start
    url = httpx.URL(f"{drafter_up.api_url}/chat/completions")
    body = json.dumps({"model": HAIKU, "messages": [user("x")], "stream": True}).encode()
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.host}\r\n"
        f"Authorization: Bearer {new_key(drafter_up)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port or 80)) as sock:
        sock.sendall(head.encode() + body)
        time.sleep(0.3)  # the request is upstream, nothing answered yet: the client leaves
    left = time.monotonic()

    assert fake_anthropic.wait_for_disconnect_blocking(10)
    assert time.monotonic() - left < 2.0  # cancelled then, not once the first event came
    assert fake_anthropic.completed_streams == 0
    assert httpx.get(f"{drafter_up.base_url}/healthz").status_code == 200


def test_overloaded_upstream_is_retried_then_recovers(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(status=529), Reply(status=529), Reply(text="recovered"))
    completion = client.chat.completions.create(model=HAIKU, messages=[user("x")])

    assert completion.choices[0].message.content == "recovered"
    assert len(fake_anthropic.requests) == 3


def test_failing_upstream_after_bounded_retries_is_503(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(*[Reply(status=500)] * 3)
    with pytest.raises(openai.InternalServerError) as exc:
        client.chat.completions.create(model=HAIKU, messages=[user("x")])

    assert exc.value.status_code == 503
    assert exc.value.body["type"] == "overloaded_error"  # type: ignore[index]
    assert len(fake_anthropic.requests) == 3


def test_upstream_retry_after_is_passed_on(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        status=429, headers={"retry-after": "7", "x-should-retry": "false"}
    )  # the SDK honours the no-retry hint, so the caller sees the upstream's wait
    with pytest.raises(openai.InternalServerError) as exc:
        client.chat.completions.create(model=HAIKU, messages=[user("x")])

    assert exc.value.status_code == 503
    assert exc.value.response.headers["retry-after"] == "7"


def test_upstream_400_is_a_400_with_the_upstream_message(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(status=400, error_message="messages.0.content: too many images")
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model=HAIKU, messages=[user("x")])

    assert exc.value.body["message"] == "messages.0.content: too many images"  # type: ignore[index]
    assert len(fake_anthropic.requests) == 1  # the caller's mistake is not retried


def test_a_failure_mid_stream_ends_with_an_error_event(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="partial answer that breaks", chunks=4, error_after=5)
    received: list[str] = []
    stream = client.chat.completions.create(model=HAIKU, messages=[user("x")], stream=True)
    with pytest.raises(openai.APIError) as exc:
        for chunk in stream:
            received.extend(c.delta.content or "" for c in chunk.choices)

    assert "".join(received)  # output flowed before the failure
    assert exc.value.body["type"] == "overloaded_error"  # type: ignore[index]
    assert exc.value.body["code"] == "upstream_unavailable"  # type: ignore[index]


def test_a_failure_mid_stream_of_a_whole_answer_is_503(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    # A long answer (max_tokens above what is asked for whole) is streamed from upstream.
    fake_anthropic.enqueue(text="partial answer that breaks", chunks=4, error_after=5)
    with pytest.raises(openai.InternalServerError) as exc:
        client.chat.completions.create(model=HAIKU, messages=[user("x")], max_tokens=16_000)

    assert exc.value.status_code == 503
    assert fake_anthropic.last_request.body["stream"] is True
