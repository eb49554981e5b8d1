"""The exact bytes of streamed responses, pinned: a text answer, reasoning with its
summary and encrypted content followed by a function call, and a stream the upstream
breaks off mid-way (``error``, then ``response.failed``). Each is compared, byte for byte,
with its file in ``stream_bytes/``, after the values that change from one run to the next
(ids, ``created_at``, sealed reasoning) are numbered in order of appearance, so a value
repeated where it should be still has to be the same value.

The files are the wire format as the OpenAI SDK, Codex and the Agents SDK were checked
against; a change to how events are written (translation, encoding, SSE framing) must
leave them as they are."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

PINNED = Path(__file__).parent / "stream_bytes"
HAIKU = "claude-haiku-4-5"
# What differs between runs, numbered by first appearance (``msg_1``, ``sealed_1``...).
VARYING = re.compile(
    rb"(?P<id>\b(?:resp|msg|rs|fc|ctc|ws)_)[0-9a-f]{24,32}\b"
    rb'|(?P<time>"created_at":)\d+'
    rb"|(?P<sealed>drs1\.)[A-Za-z0-9_=-]+"
)
LOOKUP_TOOL = {
    "type": "function",
    "name": "lookup",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
}
CASES: dict[str, tuple[Reply, dict[str, Any]]] = {
    "text": (Reply(text="Hello there, friend", chunks=3), {"input": "Say hello"}),
    "reasoning_then_call": (
        Reply(
            text="",
            thinking="Look it up first.",
            signature="sig-bytes-1",
            tool_uses=[ToolUse("lookup", {"q": "x"}, id="toolu_bytes_1")],
            chunks=2,
        ),
        {
            "input": "What is x?",
            "instructions": "Answer briefly.",
            "tools": [LOOKUP_TOOL],
            "reasoning": {"effort": "low", "summary": "auto"},
            "include": ["reasoning.encrypted_content"],
            "metadata": {"run": "bytes"},
        },
    ),
    "broken_off": (Reply(text="a b c d", chunks=4, error_after=5), {"input": "Count"}),
}


def numbered(body: bytes) -> bytes:
    """``body`` with each varying value replaced by its kind and its order of appearance."""
    seen: dict[bytes, bytes] = {}

    def number(match: re.Match[bytes]) -> bytes:
        kind = match.lastgroup or ""
        head = match.group(kind)
        if kind == "time":
            return head + b"0"
        value = match.group(0)
        if value not in seen:
            count = sum(1 for known in seen.values() if known.startswith(head))
            seen[value] = head + b"%d" % (count + 1)
        return seen[value]

    return VARYING.sub(number, body)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_streamed_response_is_the_pinned_bytes(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic, case: str
) -> None:
    reply, fields = CASES[case]
    fake_anthropic.enqueue(reply)

    answer = httpx.post(
        stack.base_url + "/v1/responses",
        json={"model": HAIKU, "stream": True, "store": False, **fields},
        headers={"Authorization": f"Bearer {pro_key}"},
        timeout=30,
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert numbered(answer.content) == (PINNED / f"{case}.sse").read_bytes()
