"""The request Codex (0.171 ``exec``) sends, as observed: SSE with ``store: false``,
``include: ["reasoning.encrypted_content"]``, developer-role instructions as input items
with ids, ``client_metadata``, a ``namespace`` tool group and a hosted ``web_search``
tool it cannot do without (sent upstream as Anthropic's web search). Sent as raw HTTP,
so every field is Codex's own."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

CODEX_BODY = {
    "model": "claude-haiku-4-5",
    "instructions": "You are Codex.",
    "input": [
        {
            "type": "message",
            "id": "msg_dev_1",
            "role": "developer",
            "content": [{"type": "input_text", "text": "Work in /repo."}],
        },
        {
            "type": "message",
            "id": "msg_user_1",
            "role": "user",
            "content": [{"type": "input_text", "text": "List the files."}],
        },
    ],
    "tools": [
        {
            "type": "function",
            "name": "shell",
            "description": "Runs a command.",
            "strict": False,
            "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
        },
        {
            "type": "namespace",
            "name": "mcp",
            "description": "MCP tools.",
            "tools": [{"type": "function", "name": "read", "parameters": {"type": "object"}}],
        },
        {"type": "web_search"},
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "reasoning": {"summary": "auto"},
    "store": False,
    "stream": True,
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "0199-session",
    "client_metadata": {"originator": "codex_exec"},
}


def _events(text: str) -> list[dict[str, object]]:
    return [
        orjson.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: ")
    ]


def test_codex_request_streams_and_reaches_the_upstream_right(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="", tool_uses=[ToolUse("mcp__read", {"path": "a"})]))

    answer = httpx.post(
        stack.base_url + "/v1/responses",
        json=CODEX_BODY,
        headers={"Authorization": f"Bearer {pro_key}", "Accept": "text/event-stream"},
        timeout=30,
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert "event: response.completed" in answer.text
    events = _events(answer.text)
    call = next(
        e["item"]
        for e in events
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"  # type: ignore[index]
    )
    assert call["name"] == "read"  # type: ignore[index]
    assert call["namespace"] == "mcp"  # type: ignore[index]
    body = fake_anthropic.last_request.body
    # its hosted web_search is Anthropic's web search server tool
    assert [t["name"] for t in body["tools"]] == ["shell", "mcp__read", "web_search"]
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    system = body["system"]
    texts = [system] if isinstance(system, str) else [block["text"] for block in system]
    assert "You are Codex." in texts[0]
    assert "Work in /repo." in "\n".join(texts)
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "List the files."}]}
    ]
