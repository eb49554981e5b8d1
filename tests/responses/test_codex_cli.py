"""The real Codex CLI (``@openai/codex``, pinned in tests/clients/package.json) running
``codex exec`` against Drafter's Responses API: a custom model provider whose ``base_url``
is Drafter's ``/v1`` (``wire_api = "responses"``, the Drafter key from an environment
variable), a temporary ``CODEX_HOME`` and nothing that phones home. The fake upstream's
text comes back in Codex's answer, the upstream saw Drafter's key and Codex's tools
translated, and a shell tool call Codex runs itself goes back upstream as its result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.anthropic_api.conftest import UPSTREAM_KEY
from tests.fakes.anthropic_server import FakeAnthropic, ReceivedRequest, Reply, ToolUse
from tests.support import node_clients
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

MODEL = "claude-haiku-4-5"
UPSTREAM_MODEL = "claude-haiku-4-5-20251001"  # the id the upstream is asked for
KEY_VARIABLE = "DRAFTER_API_KEY"
CODEX_TIMEOUT_S = 120.0


@pytest.fixture(scope="module", autouse=True)
def node_installed() -> str:
    """Skips (fails on CI) before a stack starts when the Node clients are not installed."""
    return node_clients.require_node_clients()


def codex_config(stack: DrafterStack) -> str:
    """``$CODEX_HOME/config.toml``: Drafter as the model provider, a plan model, and the
    keys of Codex's configuration reference that stop it reaching OpenAI on its own
    (developers.openai.com/codex/config-reference: ``check_for_update_on_startup``,
    ``[analytics] enabled``, ``[feedback] enabled``; the OpenTelemetry exporters are off
    unless configured)."""
    return f"""\
model = "{MODEL}"
model_provider = "drafter"
check_for_update_on_startup = false

[model_providers.drafter]
name = "Drafter"
base_url = "{stack.base_url}/v1"
wire_api = "responses"
env_key = "{KEY_VARIABLE}"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[feedback]
enabled = false
"""


def run_codex(
    stack: DrafterStack, key: str, tmp_path: Path, prompt: str, *options: str
) -> list[dict[str, Any]]:
    """``codex exec --json PROMPT`` in an empty folder that is not a git repository; the
    JSON events it printed (it must exit 0)."""
    home, work = tmp_path / "codex-home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(codex_config(stack))
    env = {"CODEX_HOME": str(home), "HOME": str(tmp_path), KEY_VARIABLE: key}
    done = node_clients.run_bin(
        "codex",
        "exec",
        "--json",
        "--strict-config",  # a configuration key this version does not know is an error
        "--skip-git-repo-check",
        "--ephemeral",
        *options,
        prompt,
        env=env,
        cwd=work,
        timeout_s=CODEX_TIMEOUT_S,
    )
    assert done.returncode == 0, f"codex exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def messages_requests(fake: FakeAnthropic) -> list[ReceivedRequest]:
    return [r for r in fake.requests if r.path == "/v1/messages"]


def agent_messages(events: list[dict[str, Any]]) -> list[str]:
    return [
        event["item"]["text"]
        for event in events
        if event.get("type") == "item.completed" and event["item"].get("type") == "agent_message"
    ]


def test_codex_exec_answers_with_the_upstream_text(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    fake_anthropic.enqueue(text="Hello from Claude through Drafter.")

    events = run_codex(stack, pro_key, tmp_path, "Say hello")

    assert agent_messages(events) == ["Hello from Claude through Drafter."]
    assert events[-1]["type"] == "turn.completed"
    requests = messages_requests(fake_anthropic)
    assert len(requests) == 1
    request = requests[0]
    assert request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert pro_key not in str(request.headers)
    body = request.body
    assert body["model"] == UPSTREAM_MODEL
    assert body["stream"] is True
    assert body["messages"][-1]["content"][-1]["text"] == "Say hello"
    tools = {tool["name"]: tool for tool in body["tools"]}
    # Codex's function tools as Anthropic tools, its namespaced group flattened
    assert "cmd" in tools["exec_command"]["input_schema"]["properties"]
    assert any(name.startswith("multi_agent_v1__") for name in tools)
    # its default hosted web_search, as Anthropic's web search server tool
    assert tools.pop("web_search") == {"type": "web_search_20250305", "name": "web_search"}
    assert all("input_schema" in tool for tool in tools.values())


def test_codex_exec_runs_the_shell_tool_call_and_sends_its_result_back(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    call = ToolUse("exec_command", {"cmd": "echo hi-from-codex"}, id="toolu_codex_echo")
    fake_anthropic.enqueue(
        Reply(text="", tool_uses=[call]), Reply(text="The command printed hi-from-codex.")
    )

    # read-only: Codex's sandbox lets `echo` run; exec mode asks for no approval
    events = run_codex(stack, pro_key, tmp_path, "Run echo", "--sandbox", "read-only")

    ran = [
        event["item"]
        for event in events
        if event.get("type") == "item.completed"
        and event["item"].get("type") == "command_execution"
    ]
    assert len(ran) == 1
    assert "echo hi-from-codex" in ran[0]["command"]
    assert (ran[0]["exit_code"], ran[0]["aggregated_output"]) == (0, "hi-from-codex\n")
    assert agent_messages(events) == ["The command printed hi-from-codex."]
    first, second = messages_requests(fake_anthropic)
    assert len(first.body["messages"]) == 1  # the prompt; the turn goes on after it
    assert second.body["messages"][0]["content"][-1]["text"] == "Run echo"
    assert second.body["messages"][-2] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}],
    }
    (result,) = second.body["messages"][-1]["content"]
    assert (result["type"], result["tool_use_id"]) == ("tool_result", call.id)
    assert "hi-from-codex" in json.dumps(result["content"])
