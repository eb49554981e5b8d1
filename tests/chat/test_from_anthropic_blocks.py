"""ChoiceStream on block-level details: calls without arguments, the forced format tool,
thinking blocks kept for tool loops."""

from __future__ import annotations

from typing import Any

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.services.chat.from_anthropic import ChoiceBuilder, ChoiceStream
from tests.chat.test_from_anthropic import (
    Event,
    block,
    delta,
    finished,
    message_delta,
    start,
    text_event,
    upstream,
)


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def call_delta(index: int, **fields: Any) -> Event:
    return Event(delta=chat_pb.Delta(tool_call=chat_pb.ToolCallDelta(index=index, **fields)))


def run(stream: ChoiceStream, events: list[dict[str, Any]]) -> list[Event]:
    return [e for data in events for e in stream.events_from(upstream(data))]


SIGNED_THINKING_THEN_CALLS = [
    start(),
    block(0, type="thinking", thinking="", signature=""),
    delta(0, type="thinking_delta", thinking="Let me "),
    delta(0, type="thinking_delta", thinking="check."),
    delta(0, type="signature_delta", signature="sig-1"),
    stop(0),
    block(1, type="redacted_thinking", data="opaque"),
    stop(1),
    block(2, type="tool_use", id="toolu_a", name="weather", input={}),
    delta(2, type="input_json_delta", partial_json=""),
    stop(2),
    block(3, type="tool_use", id="toolu_b", name="time", input={}),
    delta(3, type="input_json_delta", partial_json='{"tz":"UTC"}'),
    stop(3),
    message_delta("tool_use"),
]


def test_a_call_without_arguments_gets_an_empty_object() -> None:
    out = run(ChoiceStream(), SIGNED_THINKING_THEN_CALLS)

    assert out == [
        call_delta(0, id="toolu_a", name="weather"),
        call_delta(0, arguments_json="{}"),
        call_delta(1, id="toolu_b", name="time"),
        call_delta(1, arguments_json='{"tz":"UTC"}'),
        finished(chat_pb.FINISH_REASON_TOOL_CALLS),
    ]


def test_signed_thinking_is_kept_with_the_tool_call_ids() -> None:
    stream = ChoiceStream(keep_thinking=True)
    run(stream, SIGNED_THINKING_THEN_CALLS)

    assert stream.has_thinking_to_keep
    assert stream.tool_call_ids == ["toolu_a", "toolu_b"]
    assert stream.thinking_blocks == [
        {"type": "thinking", "thinking": "Let me check.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque"},
    ]


@pytest.mark.parametrize(
    ("keep", "events"),
    [
        (False, SIGNED_THINKING_THEN_CALLS),
        (True, [*SIGNED_THINKING_THEN_CALLS[:7], message_delta("end_turn")]),  # no tool calls
    ],
    ids=["not-asked", "no-tool-calls"],
)
def test_nothing_is_kept(keep: bool, events: list[dict[str, Any]]) -> None:
    stream = ChoiceStream(keep_thinking=keep)
    run(stream, events)

    assert not stream.has_thinking_to_keep


FORMAT_ANSWER = [
    start(),
    block(0, type="tool_use", id="toolu_f", name="json_response", input={}),
    delta(0, type="input_json_delta", partial_json='{"answer":'),
    delta(0, type="input_json_delta", partial_json=" 42}"),
    stop(0),
    message_delta("tool_use"),
]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (
            FORMAT_ANSWER,
            [
                text_event('{"answer":'),
                text_event(" 42}"),
                finished(chat_pb.FINISH_REASON_STOP),
            ],
        ),
        (
            [*FORMAT_ANSWER[:2], stop(0), message_delta("max_tokens")],
            [text_event("{}"), finished(chat_pb.FINISH_REASON_LENGTH)],
        ),
    ],
    ids=["answer", "empty-answer-cut-short"],
)
def test_the_format_tool_input_is_the_answer_text(
    events: list[dict[str, Any]], expected: list[Event]
) -> None:
    stream = ChoiceStream(format_tool="json_response")
    builder = ChoiceBuilder()

    out = run(stream, events)
    for event in out:
        builder.add(event)

    assert out == expected
    choice = builder.build()
    assert not choice.tool_calls
    assert choice.content == "".join(e.delta.text for e in expected if e.HasField("delta"))
