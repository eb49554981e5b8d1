"""The upstream key pool end to end: ``drafter up`` with two Anthropic keys, one of which
the fake upstream refuses (429 or 529 with ``retry-after``). The official OpenAI and
Anthropic SDKs still get their answers (from the other key, without a retry of theirs),
the failing key cools down, and ``/api/v1/status`` shows both keys' health without any
of their text."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import DrafterStack, start_drafter_up

HAIKU = "claude-haiku-4-5"
FAILING, WORKING = "sk-ant-api03-QZXVJKWQYP", "sk-ant-api03-JXQZPVWKMR"
COOLING_S = 4


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    stack = start_drafter_up(
        tmp_path_factory.mktemp("key-pool"),
        anthropic_base_url=fake_anthropic_server.base_url,
        ANTHROPIC_API_KEYS=f"{FAILING}, {WORKING}",
    )
    yield stack
    assert stack.stop() == 0, stack.output()


@pytest.fixture
def fake(fake_anthropic: FakeAnthropic, stack: DrafterStack) -> FakeAnthropic:
    """The fake upstream once no key of ``stack`` cools any more (each test starts alike)."""
    deadline = time.monotonic() + COOLING_S + 5
    while any(k["cooling"] for k in upstream_keys(stack)):
        assert time.monotonic() < deadline, upstream_keys(stack)
        time.sleep(0.2)
    fake_anthropic.reset()
    return fake_anthropic


def new_key(stack: DrafterStack) -> str:
    return stack.create_user_with_key(f"key-pool-{uuid.uuid4().hex[:8]}@example.com", "plus")


def status_text(stack: DrafterStack) -> str:
    return httpx.get(f"{stack.api_url}/status", timeout=10).text


def upstream_keys(stack: DrafterStack) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = httpx.get(f"{stack.api_url}/status", timeout=10).json()[
        "upstream_keys"
    ]
    return keys


def keys_sent(fake: FakeAnthropic) -> list[str]:
    return [r.headers["authorization"].removeprefix("Bearer ") for r in fake.requests]


def user(text: str) -> Any:  # a message param; Any spares the SDK TypedDict overloads
    return {"role": "user", "content": text}


def test_chat_completions_move_to_the_working_key_and_the_failing_one_cools(
    stack: DrafterStack, fake: FakeAnthropic
) -> None:
    fake.key_replies[FAILING] = Reply(status=429, headers={"retry-after": str(COOLING_S)})
    client = openai.OpenAI(api_key=new_key(stack), base_url=stack.api_url, max_retries=0)

    answer = client.chat.completions.create(model=HAIKU, messages=[user("first")])
    streamed = client.chat.completions.create(model=HAIKU, messages=[user("second")], stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    third = client.chat.completions.create(model=HAIKU, messages=[user("third")])

    assert (answer.choices[0].message.content, text) == ("Echo: first", "Echo: second")
    assert third.choices[0].message.content == "Echo: third"
    # The failing key was tried once (key-1 comes first), then rested while it cooled.
    assert keys_sent(fake) == [FAILING, WORKING, WORKING, WORKING]
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests[:2]] == ["0", "1"]
    failing, working = upstream_keys(stack)
    assert (failing["label"], failing["cooling"], failing["last_status"]) == ("key-1", True, 429)
    assert failing["rate_limited"] == 1 and failing["cooling_until"]
    assert (working["label"], working["cooling"], working["last_status"]) == ("key-2", False, 200)
    assert failing["in_flight"] == working["in_flight"] == 0


@pytest.mark.parametrize("stream", [False, True])
def test_the_messages_passthrough_moves_to_the_working_key(
    stack: DrafterStack, fake: FakeAnthropic, stream: bool
) -> None:
    fake.key_replies[FAILING] = Reply(status=529, headers={"retry-after": str(COOLING_S)})
    before = {k["label"]: k for k in upstream_keys(stack)}
    client = anthropic.Anthropic(api_key=new_key(stack), base_url=stack.base_url, max_retries=0)

    if stream:
        with client.messages.stream(
            model=HAIKU, max_tokens=64, messages=[user("passed through")]
        ) as events:
            text = events.get_final_text()
    else:
        message = client.messages.create(
            model=HAIKU, max_tokens=64, messages=[user("passed through")]
        )
        text = "".join(b.text for b in message.content if b.type == "text")

    assert text == "Echo: passed through"
    # Both keys idle after the last test: the tie goes to the one leased longer ago, the
    # failing key-1 (it rested while cooling); the 529 moves the request to key-2.
    assert keys_sent(fake) == [FAILING, WORKING]
    after = {k["label"]: k for k in upstream_keys(stack)}
    assert after["key-1"]["overloaded"] == before["key-1"]["overloaded"] + 1
    assert after["key-1"]["cooling"] and after["key-1"]["last_status"] == 529
    assert after["key-2"]["requests"] == before["key-2"]["requests"] + 1
    assert after["key-1"]["in_flight"] == after["key-2"]["in_flight"] == 0


def test_the_status_names_keys_without_their_text(stack: DrafterStack, fake: FakeAnthropic) -> None:
    body = status_text(stack)
    keys = upstream_keys(stack)

    assert [k["label"] for k in keys] == ["key-1", "key-2"]
    assert all(len(k["fingerprint"]) == 12 for k in keys)
    assert keys[0]["fingerprint"] != keys[1]["fingerprint"]
    for secret in (FAILING, WORKING):
        tail = secret.removeprefix("sk-ant-api03-")
        pieces = {tail[i : i + 4] for i in range(len(tail) - 3)}
        assert not any(piece in body for piece in pieces), piece_found(body, pieces)


def piece_found(body: str, pieces: set[str]) -> str:
    return ", ".join(sorted(p for p in pieces if p in body))
