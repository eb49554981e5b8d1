"""The live API's rules end to end: ``drafter up`` with an operator's model table
(DRAFTER_MODELS_FILE) serving a model added without a release, the OpenAI SDK as the
client, the strict fake upstream. Refusals are precise, in OpenAI's shape, and free."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.model_rows import BUILT_IN, OPUS_47
from tests.support.stack import DrafterStack, start_drafter_up

# A row whose upstream id the live API does not serve (an operator's typo).
TYPO = """
[[models]]
id = "claude-typo"
kind = "chat"
owned_by = "anthropic"
created = 2026-01-01
upstream = "claude-opus-4-6-20250610"
context_window = 200_000
max_output_tokens = 64_000
thinking = ["budget"]
sampling = ["temperature", "top_p", "top_k"]
"""
PLANS = """
default = "plus"

[plans.plus]
name = "Plus"
price_eur_per_week = 24.99
models = ["claude-haiku-4-5", "claude-opus-4-6", "claude-opus-4-7", "claude-typo"]
max_api_keys = 10
max_apps = 3

[plans.plus.limits]
chat = 500
imageGen = 50
imageEdit = 100
"""


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    config = tmp_path_factory.mktemp("tables")
    models = config / "models.toml"
    models.write_text(BUILT_IN + OPUS_47 + TYPO)
    plans = config / "plans.toml"
    plans.write_text(PLANS)
    running = start_drafter_up(
        tmp_path_factory.mktemp("live-rules"),
        anthropic_base_url=fake_anthropic_server.base_url,
        DRAFTER_MODELS_FILE=str(models),
        DRAFTER_PLANS_FILE=str(plans),
    )
    yield running
    assert running.stop() == 0, running.output()


@pytest.fixture
def key(stack: DrafterStack) -> str:
    return stack.create_user_with_key(f"rules-{uuid.uuid4().hex[:8]}@example.com", "plus")


@pytest.fixture
def client(stack: DrafterStack, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=stack.api_url, max_retries=0)


def user(text: str) -> Any:
    return {"role": "user", "content": text}


def chat_used(stack: DrafterStack, key: str) -> int:
    usage = httpx.get(f"{stack.api_url}/usage", headers={"Authorization": f"Bearer {key}"})
    return int(usage.json()["today"]["chat"])


def test_a_model_added_by_the_operators_file_is_served(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    completion = client.chat.completions.create(model="claude-opus-4-7", messages=[user("hi")])

    assert completion.choices[0].message.content == "Echo: hi"
    assert completion.model == "claude-opus-4-7"
    sent = fake_anthropic.last_request
    assert sent.body["model"] == "claude-opus-4-7"
    assert "temperature" not in sent.body  # it takes only the defaults
    assert sent.headers["anthropic-version"] == "2023-06-01"

    client.chat.completions.create(
        model="claude-opus-4-7", messages=[user("hi")], reasoning_effort="xhigh"
    )
    assert fake_anthropic.last_request.body["output_config"] == {"effort": "xhigh"}
    assert fake_anthropic.last_request.body["thinking"] == {"type": "adaptive"}


@pytest.mark.parametrize(
    ("model", "fields", "param"),
    [
        ("claude-opus-4-7", {"temperature": 0.3}, "temperature"),
        ("claude-haiku-4-5", {"temperature": 0.3, "top_p": 0.9}, "top_p"),
        ("claude-haiku-4-5", {"reasoning_effort": "high", "temperature": 0.3}, "temperature"),
        ("claude-opus-4-6", {"reasoning_effort": "xhigh"}, "reasoning_effort"),
        ("claude-haiku-4-5", {"max_tokens": 64_001}, "max_tokens"),
    ],
    ids=[
        "no-sampling",
        "temperature-with-top-p",
        "sampling-while-thinking",
        "effort",
        "max",
    ],
)
def test_what_the_model_cannot_honour_is_a_precise_400_and_costs_nothing(
    stack: DrafterStack,
    key: str,
    client: openai.OpenAI,
    fake_anthropic: FakeAnthropic,
    model: str,
    fields: dict[str, Any],
    param: str,
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=[user("hi")], **fields)

    error = info.value.body
    assert isinstance(error, dict)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert not fake_anthropic.requests
    assert chat_used(stack, key) == 0


def test_sampling_reaches_the_upstream(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    client.chat.completions.create(
        model="claude-haiku-4-5", messages=[user("hi")], temperature=0.2, extra_body={"top_k": 9}
    )
    assert (
        fake_anthropic.last_request.body["temperature"],
        fake_anthropic.last_request.body["top_k"],
    ) == (0.2, 9)

    client.chat.completions.create(model="claude-opus-4-6", messages=[user("hi")], top_p=0.4)
    assert fake_anthropic.last_request.body["top_p"] == 0.4
    assert "temperature" not in fake_anthropic.last_request.body


def test_an_id_the_upstream_does_not_serve_is_a_404_naming_it_and_costs_nothing(
    stack: DrafterStack, key: str, client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="claude-typo", messages=[user("hi")])

    error = info.value.body
    assert isinstance(error, dict)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "claude-opus-4-6-20250610" in error["message"]
    assert chat_used(stack, key) == 0
    assert fake_anthropic.requests  # the upstream was asked, and said no
    log = stack.output()
    assert any(
        " ERROR " in line and "claude-opus-4-6-20250610" in line and "DRAFTER_MODELS_FILE" in line
        for line in log.splitlines()
    ), log[-2000:]


def test_an_upstream_400_keeps_its_words_and_costs_nothing(
    stack: DrafterStack, key: str, client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(status=400, error_message="prompt is too long: 250000 tokens"))

    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="claude-haiku-4-5", messages=[user("hi")])

    assert "prompt is too long: 250000 tokens" in str(info.value)
    assert chat_used(stack, key) == 0


def test_the_streaming_path_refuses_the_same_way(
    stack: DrafterStack, key: str, fake_anthropic: FakeAnthropic
) -> None:
    body = {"model": "claude-typo", "messages": [user("hi")], "stream": True}
    response = httpx.post(
        f"{stack.api_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert chat_used(stack, key) == 0
