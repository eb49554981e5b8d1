"""Errors as Anthropic's SDK raises them from Drafter's Messages API: Anthropic's shape and
status codes for Drafter's own refusals, the upstream's refusals passed on verbatim, and
the quota refunded whenever the upstream failed before answering."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from tests.anthropic_api.conftest import HAIKU, MAX_BODY_BYTES, new_key
from tests.anthropic_api.test_messages import usage_today
from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

HI: Any = [{"role": "user", "content": "hi"}]


def raw_post(stack: DrafterStack, key: str, body: Any) -> httpx.Response:
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return httpx.post(stack.base_url + "/v1/messages", json=body, headers=headers, timeout=10)


def test_a_wrong_key_is_an_authentication_error(stack: DrafterStack) -> None:
    client = anthropic.Anthropic(api_key="dp_wrong", base_url=stack.base_url, max_retries=0)

    with pytest.raises(anthropic.AuthenticationError) as refused:
        client.messages.create(model=HAIKU, max_tokens=16, messages=HI)

    assert refused.value.status_code == 401
    body: Any = refused.value.body
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert body["request_id"] == refused.value.request_id


def test_a_model_outside_the_plan_names_the_plans_models(
    client: anthropic.Anthropic, fake_anthropic: FakeAnthropic
) -> None:
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        client.messages.create(model="claude-opus-4-6", max_tokens=16, messages=HI)

    message = refused.value.message
    assert "`claude-opus-4-6` is not available on the Pro plan" in message
    for allowed in ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-6"):
        assert allowed in message
    assert fake_anthropic.requests == []


def test_an_unknown_model_is_not_found(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as refused:
        client.messages.create(model="claude-nonexistent-9", max_tokens=16, messages=HI)

    assert refused.value.type == "not_found_error"  # type: ignore[attr-defined]


def test_a_spent_daily_quota_is_a_rate_limit_error_not_to_retry(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = new_key(stack, "tiny")  # 2 chat requests a day
    client = anthropic.Anthropic(api_key=key, base_url=stack.base_url, max_retries=2)
    for _ in range(2):
        client.messages.create(model=HAIKU, max_tokens=16, messages=HI)

    with pytest.raises(anthropic.RateLimitError) as refused:
        client.messages.create(model=HAIKU, max_tokens=16, messages=HI)

    headers = refused.value.response.headers
    assert headers["x-should-retry"] == "false"
    assert 0 < int(headers["retry-after"]) <= 86_400
    assert refused.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert len(fake_anthropic.requests) == 2  # the SDK did not retry the 429


def test_an_overloaded_upstream_is_retried_by_the_sdk_alone_and_refunded(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = new_key(stack)
    client = anthropic.Anthropic(api_key=key, base_url=stack.base_url, max_retries=2)
    fake_anthropic.enqueue(
        *[Reply(status=529, error_message="Overloaded", headers={"retry-after": "0"})] * 3
    )

    with pytest.raises(anthropic.OverloadedError) as refused:
        client.messages.create(model=HAIKU, max_tokens=16, messages=HI)

    assert refused.value.status_code == 529
    assert refused.value.body == {  # the upstream's own answer, verbatim
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    # one upstream call per SDK attempt: Drafter adds no retries of its own
    assert len(fake_anthropic.requests) == 3
    assert usage_today(stack, key)["chat"] == 0


def test_max_tokens_over_the_models_limit_is_refused_in_anthropics_shape(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    answer = raw_post(stack, pro_key, {"model": HAIKU, "max_tokens": 64_001, "messages": HI})

    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"type", "error", "request_id"}
    assert body["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens is too large: 64001 > 64000, the most output tokens "
        "`claude-haiku-4-5` can produce.",
    }
    assert answer.headers["request-id"] == body["request_id"]
    assert fake_anthropic.requests == []


def test_a_large_body_passes_through_every_layout(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="Large body received.")
    large = [{"role": "user", "content": "x" * (MAX_BODY_BYTES - 1000)}]

    answer = raw_post(stack, pro_key, {"model": HAIKU, "max_tokens": 16, "messages": large})

    assert answer.status_code == 200, answer.text
    assert fake_anthropic.last_request.body["messages"] == large


def test_a_body_over_the_limit_is_request_too_large(stack: DrafterStack, pro_key: str) -> None:
    big = [{"role": "user", "content": "x" * MAX_BODY_BYTES}]
    answer = raw_post(stack, pro_key, {"model": HAIKU, "max_tokens": 16, "messages": big})

    assert answer.status_code == 413
    assert answer.json()["error"]["type"] == "request_too_large"


def test_a_failure_mid_stream_is_an_error_event(
    client: anthropic.Anthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Reply(text="one two three", chunks=3, error_after=4, error_message="Overloaded")
    )

    received: list[str] = []
    with (
        pytest.raises(anthropic.APIStatusError) as failed,
        client.messages.stream(model=HAIKU, max_tokens=64, messages=HI) as stream,
    ):
        received.extend(stream.text_stream)

    assert failed.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert received  # what came before the error reached the client
