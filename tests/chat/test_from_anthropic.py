"""Anthropic stream events → proto events, Choices and Usage, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic import types as at

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.services.chat.from_anthropic import (
    ChoiceBuilder,
    ChoiceStream,
    add_usage,
    finish_reason_from_stop_reason,
)

EVENT_TYPES: dict[str, Any] = {
    "message_start": at.RawMessageStartEvent,
    "content_block_start": at.RawContentBlockStartEvent,
    "content_block_delta": at.RawContentBlockDeltaEvent,
    "content_block_stop": at.RawContentBlockStopEvent,
    "message_delta": at.RawMessageDeltaEvent,
    "message_stop": at.RawMessageStopEvent,
}
Event = chat_pb.StreamCompleteResponse


def upstream(data: dict[str, Any]) -> Any:
    return EVENT_TYPES[data["type"]].model_validate(data)


def start(**usage: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 1} | usage,
    }
    return {"type": "message_start", "message": message}


def block(index: int, **content_block: Any) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": content_block}


def delta(index: int, **d: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": d}


def message_delta(stop_reason: str | None, **usage: Any) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": 1} | usage,
    }


def text_event(value: str, index: int = 0) -> Event:
    return Event(delta=chat_pb.Delta(choice_index=index, text=value))


def finished(reason: chat_pb.FinishReason, index: int = 0) -> Event:
    return Event(finished=chat_pb.ChoiceFinished(choice_index=index, finish_reason=reason))


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", chat_pb.FINISH_REASON_STOP),
        ("stop_sequence", chat_pb.FINISH_REASON_STOP),
        ("max_tokens", chat_pb.FINISH_REASON_LENGTH),
        ("tool_use", chat_pb.FINISH_REASON_TOOL_CALLS),
        ("refusal", chat_pb.FINISH_REASON_CONTENT_FILTER),
        ("model_context_window_exceeded", chat_pb.FINISH_REASON_LENGTH),
        ("pause_turn", chat_pb.FINISH_REASON_STOP),
        ("something_new", chat_pb.FINISH_REASON_STOP),
        (None, chat_pb.FINISH_REASON_STOP),
    ],
)
def test_finish_reason_from_stop_reason(
    stop_reason: str | None, finish_reason: chat_pb.FinishReason
) -> None:
    assert finish_reason_from_stop_reason(stop_reason) == finish_reason


THINKING = [
    block(0, type="thinking", thinking="", signature=""),
    delta(0, type="thinking_delta", thinking="hmm"),
    delta(0, type="signature_delta", signature="sig"),
    {"type": "content_block_stop", "index": 0},
    block(1, type="text", text=""),
    delta(1, type="text_delta", text="42"),
    message_delta("end_turn"),
]
TOOLS = [
    block(0, type="text", text="Checking."),
    block(1, type="tool_use", id="toolu_a", name="weather", input={}),
    delta(1, type="input_json_delta", partial_json='{"city":'),
    delta(1, type="input_json_delta", partial_json='"Paris"}'),
    block(2, type="tool_use", id="toolu_b", name="time", input={}),
    message_delta("tool_use"),
]
STREAM_CASES: list[tuple[str, list[dict[str, Any]], bool, int, list[Event]]] = [
    (
        "text",
        [
            start(),
            block(0, type="text", text=""),
            delta(0, type="text_delta", text="Hi"),
            message_delta("max_tokens"),
            {"type": "message_stop"},
        ],
        False,
        0,
        [text_event("Hi"), finished(chat_pb.FINISH_REASON_LENGTH)],
    ),
    (
        "thinking dropped",
        THINKING,
        False,
        0,
        [text_event("42"), finished(chat_pb.FINISH_REASON_STOP)],
    ),
    (
        "thinking as reasoning",
        THINKING,
        True,
        2,
        [
            Event(delta=chat_pb.Delta(choice_index=2, reasoning="hmm")),
            text_event("42", 2),
            finished(chat_pb.FINISH_REASON_STOP, 2),
        ],
    ),
    (
        "tool calls",
        TOOLS,
        False,
        0,
        [
            text_event("Checking."),
            Event(
                delta=chat_pb.Delta(
                    tool_call=chat_pb.ToolCallDelta(index=0, id="toolu_a", name="weather")
                )
            ),
            Event(
                delta=chat_pb.Delta(
                    tool_call=chat_pb.ToolCallDelta(index=0, arguments_json='{"city":')
                )
            ),
            Event(
                delta=chat_pb.Delta(
                    tool_call=chat_pb.ToolCallDelta(index=0, arguments_json='"Paris"}')
                )
            ),
            Event(
                delta=chat_pb.Delta(
                    tool_call=chat_pb.ToolCallDelta(index=1, id="toolu_b", name="time")
                )
            ),
            finished(chat_pb.FINISH_REASON_TOOL_CALLS),
        ],
    ),
]


@pytest.mark.parametrize(
    ("events", "include_reasoning", "index", "expected"),
    [c[1:] for c in STREAM_CASES],
    ids=[c[0] for c in STREAM_CASES],
)
def test_choice_stream_translates_events(
    events: list[dict[str, Any]], include_reasoning: bool, index: int, expected: list[Event]
) -> None:
    stream = ChoiceStream(index, include_reasoning=include_reasoning)

    out = [e for data in events for e in stream.events_from(upstream(data))]

    assert out == expected


def test_usage_combines_message_start_and_cumulative_message_delta() -> None:
    stream = ChoiceStream()
    events = [
        start(input_tokens=10, cache_read_input_tokens=3, cache_creation_input_tokens=2),
        message_delta("end_turn", output_tokens=9),
        message_delta("end_turn", output_tokens=12, output_tokens_details={"thinking_tokens": 5}),
    ]
    for data in events:
        stream.events_from(upstream(data))

    assert stream.usage == usage_pb.TokenUsage(
        input_tokens=10,
        output_tokens=12,
        reasoning_tokens=5,
        cache_read_input_tokens=3,
        cache_creation_input_tokens=2,
    )
    total = usage_pb.TokenUsage(input_tokens=1, output_tokens=1)
    add_usage(total, stream.usage)
    assert (total.input_tokens, total.output_tokens, total.reasoning_tokens) == (11, 13, 5)


def test_choice_builder_folds_events_into_a_choice() -> None:
    stream = ChoiceStream(include_reasoning=True)
    builder = ChoiceBuilder()
    for data in THINKING + TOOLS:
        for event in stream.events_from(upstream(data)):
            builder.add(event)

    choice = builder.build()

    assert choice.content == "42Checking."
    assert choice.reasoning == "hmm"
    assert list(choice.tool_calls) == [
        chat_pb.ToolCall(id="toolu_a", name="weather", arguments_json='{"city":"Paris"}'),
        chat_pb.ToolCall(id="toolu_b", name="time", arguments_json="{}"),
    ]
    assert choice.finish_reason == chat_pb.FINISH_REASON_TOOL_CALLS


def run(stream: ChoiceStream, events: list[dict[str, Any]]) -> list[Event]:
    return [out for e in events for out in stream.events_from(upstream(e))]


def test_local_stop_sequence_cuts_the_text_across_pieces_and_finishes_with_stop() -> None:
    stream = ChoiceStream(local_stops=["\n\n"])
    events = [
        start(input_tokens=5),
        block(0, type="text", text=""),
        delta(0, type="text_delta", text="Line one\n"),
        delta(0, type="text_delta", text="\nLine two"),
        delta(0, type="text_delta", text=" more"),
        {"type": "content_block_stop", "index": 0},
        message_delta("end_turn", output_tokens=9),
    ]

    out = run(stream, events)

    assert out == [text_event("Line one"), finished(chat_pb.FINISH_REASON_STOP)]
    assert stream.stopped_early
    assert stream.stop_reason == "stop_sequence"
    assert stream.usage.output_tokens == 9  # usage still taken after the stop


def test_held_back_text_is_released_when_it_is_not_a_stop_sequence() -> None:
    stream = ChoiceStream(local_stops=["\n\n"])
    events = [
        start(),
        block(0, type="text", text="a\n"),
        delta(0, type="text_delta", text="b\n"),
        {"type": "content_block_stop", "index": 0},
        message_delta("end_turn"),
    ]

    out = run(stream, events)

    builder = ChoiceBuilder()
    for event in out:
        builder.add(event)
    assert builder.build().content == "a\nb\n"
    assert not stream.stopped_early
    assert out[-1] == finished(chat_pb.FINISH_REASON_STOP)


def test_stop_in_the_first_text_piece_and_tool_calls_after_it_are_dropped() -> None:
    stream = ChoiceStream(local_stops=["\n"])
    events = [
        start(),
        block(0, type="text", text="yes\nand more"),
        {"type": "content_block_stop", "index": 0},
        block(1, type="tool_use", id="t", name="f", input={}),
        message_delta("tool_use"),
    ]

    assert run(stream, events) == [text_event("yes"), finished(chat_pb.FINISH_REASON_STOP)]


def test_a_stream_closed_at_a_local_stop_estimates_the_tokens_generated_so_far() -> None:
    """The upstream's final count never comes for a stream Drafter closes at a stop
    sequence it enforces; message_start's count (1) would bill the answer as nothing."""
    stream = ChoiceStream(local_stops=["\n\n"])
    events = [
        start(input_tokens=5),
        block(0, type="text", text=""),
        delta(0, type="text_delta", text="Line one\n"),
        delta(0, type="text_delta", text="\nLine two"),
    ]

    run(stream, events)

    assert stream.stopped_early
    assert stream.usage.output_tokens == 5  # 18 characters received, 4 a token, rounded up
