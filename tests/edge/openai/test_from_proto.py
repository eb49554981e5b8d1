"""Proto responses and events → OpenAI objects (``edge/openai/from_proto.py``): pure."""

from __future__ import annotations

from typing import Any

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.edge.openai.from_proto import completion_from_proto, delta_from_proto, usage_from_proto


def test_usage_counts_cache_in_prompt_tokens() -> None:
    usage = usage_pb.TokenUsage(
        input_tokens=10,
        output_tokens=7,
        reasoning_tokens=3,
        cache_read_input_tokens=100,
        cache_creation_input_tokens=5,
    )
    assert usage_from_proto(usage) == {
        "prompt_tokens": 115,
        "completion_tokens": 7,
        "total_tokens": 122,
        "prompt_tokens_details": {"cached_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }


def test_completion_object() -> None:
    response = chat_pb.CompleteResponse(
        choices=[
            chat_pb.Choice(index=0, content="hello", finish_reason=chat_pb.FINISH_REASON_STOP)
        ],
        usage=usage_pb.TokenUsage(input_tokens=3, output_tokens=2),
    )
    body = completion_from_proto(
        response, completion_id="chatcmpl-x", created=1, model="claude-haiku"
    )
    assert body["object"] == "chat.completion" and body["model"] == "claude-haiku"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "hello"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == 5


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (chat_pb.Delta(text="hi"), {"content": "hi"}),
        (chat_pb.Delta(reasoning="hmm"), {"reasoning_content": "hmm"}),
        (
            chat_pb.Delta(
                tool_call=chat_pb.ToolCallDelta(index=1, id="c", name="f", arguments_json="")
            ),
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "c",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ]
            },
        ),
        (
            chat_pb.Delta(tool_call=chat_pb.ToolCallDelta(index=1, arguments_json='{"a"')),
            {"tool_calls": [{"index": 1, "function": {"arguments": '{"a"'}}]},
        ),
    ],
)
def test_deltas(delta: chat_pb.Delta, expected: dict) -> None:
    assert delta_from_proto(delta) == expected


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (chat_pb.FINISH_REASON_STOP, "stop"),
        (chat_pb.FINISH_REASON_LENGTH, "length"),
        (chat_pb.FINISH_REASON_TOOL_CALLS, "tool_calls"),
        (chat_pb.FINISH_REASON_CONTENT_FILTER, "content_filter"),
    ],
)
def test_finish_reasons_and_reasoning_content(reason: Any, expected: str) -> None:
    call = chat_pb.ToolCall(id="c", name="f", arguments_json="{}")
    choice = chat_pb.Choice(reasoning="hmm", tool_calls=[call], finish_reason=reason)
    body = completion_from_proto(
        chat_pb.CompleteResponse(choices=[choice]), completion_id="chatcmpl-x", created=1, model="m"
    )
    assert body["choices"][0]["finish_reason"] == expected
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": None,
        "reasoning_content": "hmm",
        "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
