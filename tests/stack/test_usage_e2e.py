"""Usage, models, quotas and blocking end to end through ``drafter up`` over HTTP, with
the OpenAI SDK against the fake Anthropic upstream."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow


def usage(drafter_up: DrafterStack, key: str) -> httpx.Response:
    return httpx.get(f"{drafter_up.api_url}/usage", headers={"Authorization": f"Bearer {key}"})


def chat(client: openai.OpenAI) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(
        model="claude-haiku-4-5", messages=[{"role": "user", "content": "Hi"}], max_tokens=16
    )


def test_usage_in_the_seed_shape(drafter_up: DrafterStack, fake_anthropic: FakeAnthropic) -> None:
    key = drafter_up.create_user_with_key("usage-e2e@example.com")
    first = usage(drafter_up, key)
    assert first.status_code == 200
    assert first.json() == {
        "plan": "free",
        "today": {
            "chat": 0,
            "imageGen": 0,
            "imageEdit": 0,
            "apiCalls": 0,
            "tokens": 0,
            "cachedTokens": 0,
            "cacheCreationTokens": 0,
        },
        "limits": {"chat": 20, "imageGen": 3, "imageEdit": 5},
        "remaining": {"chat": 20, "imageGen": 3, "imageEdit": 5},
    }
    client = openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)
    completion = chat(client)
    assert completion.usage is not None
    body = httpx.get(
        f"{drafter_up.base_url}/v1/usage", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert body["today"]["chat"] == 1 and body["remaining"]["chat"] == 19
    assert body["today"]["apiCalls"] == 2  # the first usage call and the chat
    assert body["today"]["tokens"] == completion.usage.total_tokens


def test_models_follow_the_plan(drafter_up: DrafterStack) -> None:
    key = drafter_up.create_user_with_key("models-e2e@example.com")
    client = openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)
    assert [m.id for m in client.models.list()] == ["claude-haiku-4-5", "nano-banano-pro"]
    drafter_up.admin("user", "set-plan", "models-e2e@example.com", "pro")
    assert "claude-sonnet-4-6" in [m.id for m in client.models.list()]


def test_quota_exhausted_is_429_until_midnight(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = drafter_up.create_user_with_key("quota-e2e@example.com")
    client = openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)
    for _ in range(20):
        chat(client)
    with pytest.raises(openai.RateLimitError) as caught:
        chat(client)
    response = caught.value.response
    error = response.json()["error"]
    assert error.pop("message").startswith(
        "Rate limit exceeded. Daily quota: 20/20 used. The daily chat quota resets at 00:00 UTC"
    )
    assert error == {
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert 1 <= int(response.headers["retry-after"]) <= 86_400
    assert usage(drafter_up, key).json()["remaining"]["chat"] == 0


def test_blocked_account_gets_403_everywhere(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = drafter_up.create_user_with_key("blocked-e2e@example.com")
    client = openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)
    chat(client)
    drafter_up.admin("user", "block", "blocked-e2e@example.com")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        chat(client)
    assert caught.value.response.json()["error"]["message"] == "Account blocked"
    assert usage(drafter_up, key).status_code == 403
    with pytest.raises(openai.PermissionDeniedError):
        client.models.list()
    drafter_up.admin("user", "unblock", "blocked-e2e@example.com")
    assert chat(client).choices


def test_code_create_prints_the_code_last(drafter_up: DrafterStack) -> None:
    result = drafter_up.admin("code", "create", "--plan", "plus", "--days", "3", "--uses", "2")
    code = result.stdout.strip().splitlines()[-1]
    assert code.startswith("DP-") and " " not in code


def test_unknown_key_is_401(drafter_up: DrafterStack) -> None:
    response = usage(drafter_up, "dp_" + "x" * 43)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
