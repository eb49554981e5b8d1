"""The real Claude Code CLI (pinned in tests/clients/package.json) and the
``@anthropic-ai/sdk`` Node SDK against Drafter's Messages API, with a Drafter key: the
answer comes back from the fake upstream, which saw Drafter's upstream key only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.anthropic_api.conftest import HAIKU, UPSTREAM_KEY
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support import node_clients
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

SONNET = "claude-sonnet-4-6"
PROMPT = "Say hello to Drafter"
# Claude Code's own default model is in no built-in plan: point every role at plan models.
PLAN_MODELS = {
    "ANTHROPIC_MODEL": SONNET,
    "ANTHROPIC_DEFAULT_OPUS_MODEL": SONNET,
    "ANTHROPIC_DEFAULT_SONNET_MODEL": SONNET,
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": HAIKU,
}
QUIET = {"DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}


@pytest.fixture(scope="module", autouse=True)
def node_installed() -> str:
    """Skips (fails on CI) before a stack starts when the Node clients are not installed."""
    return node_clients.require_node_clients()


def run_claude(stack: DrafterStack, credential: dict[str, str]) -> dict[str, Any]:
    env = {"ANTHROPIC_BASE_URL": stack.base_url, **credential, **PLAN_MODELS, **QUIET}
    done = node_clients.run_bin(
        "claude", "-p", PROMPT, "--output-format", "json", env=env, timeout_s=120
    )
    assert done.returncode == 0, f"claude exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def assert_sent_as_claude_code_sends_it(fake: FakeAnthropic, key: str) -> None:
    assert fake.requests, "Claude Code sent nothing upstream"
    for request in fake.requests:
        assert request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert key not in str(request.headers)
    request = fake.last_request
    assert (request.path, request.query) == ("/v1/messages", "beta=true")
    assert "claude-code-20250219" in request.headers["anthropic-beta"].split(",")
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.body["model"] == SONNET  # its upstream id
    assert request.body["stream"] is True
    # passed through as sent: what the chat completions path would never produce
    assert request.body["thinking"]["display"] == "omitted"
    assert "context_management" in request.body
    assert any(tool.get("defer_loading") for tool in request.body["tools"])


@pytest.mark.parametrize("variable", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"])
def test_claude_code_answers_through_drafter(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic, variable: str
) -> None:
    answer = run_claude(stack, {variable: pro_key})

    assert answer["type"] == "result"
    assert answer["is_error"] is False, answer
    # the fake echoes the last user text: Claude Code's reminders, then the prompt
    assert answer["result"].startswith("Echo: ")
    assert answer["result"].endswith(PROMPT)
    assert_sent_as_claude_code_sends_it(fake_anthropic, pro_key)


def test_the_node_sdk_creates_and_streams(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    env = {"DRAFTER_BASE_URL": stack.base_url, "DRAFTER_API_KEY": pro_key, "DRAFTER_MODEL": HAIKU}
    fake_anthropic.enqueue(text="Hello, Node.")
    created = node_clients.run_script("anthropic_messages.mjs", args=["create"], env=env)
    fake_anthropic.enqueue(text="one two three", chunks=3)
    streamed = node_clients.run_script("anthropic_messages.mjs", args=["stream"], env=env)

    assert created["result"]["text"] == "Hello, Node."
    assert created["result"]["model"] == "claude-haiku-4-5-20251001"
    assert created["attempts"] == ["POST /v1/messages"]
    assert streamed["result"]["text"] == "one two three"
    assert streamed["result"]["deltas"] == 3
    assert streamed["result"]["stop_reason"] == "end_turn"
    assert fake_anthropic.last_request.body["stream"] is True
    assert pro_key not in str(fake_anthropic.last_request.headers)
