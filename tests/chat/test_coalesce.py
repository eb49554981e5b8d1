"""Which adjacent stream events merge (pieces of the same choice and kind only), and how
the batches of several upstream streams are interleaved (one stream's batches are read
and coalesced by the servicer itself: tests/chat/test_servicer.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.services.chat.coalesce import coalesce, interleaved, merge_into

E = chat_pb.StreamCompleteResponse
D = chat_pb.Delta
T = chat_pb.ToolCallDelta


def text(s: str, choice: int = 0) -> E:
    return E(delta=D(choice_index=choice, text=s))


@pytest.mark.parametrize(
    ("first", "second", "merged", "expected"),
    [
        (text("ab"), text("cd"), True, text("abcd")),
        (text("ab", 0), text("cd", 1), False, text("ab", 0)),
        (E(delta=D(reasoning="x")), E(delta=D(reasoning="y")), True, E(delta=D(reasoning="xy"))),
        (text("ab"), E(delta=D(reasoning="y")), False, text("ab")),
        (
            E(delta=D(tool_call=T(index=0, id="c1", name="f", arguments_json='{"a"'))),
            E(delta=D(tool_call=T(index=0, arguments_json=": 1}"))),
            True,
            E(delta=D(tool_call=T(index=0, id="c1", name="f", arguments_json='{"a": 1}'))),
        ),
        (
            E(delta=D(tool_call=T(index=0, arguments_json="{}"))),
            E(delta=D(tool_call=T(index=1, id="c2", name="g"))),
            False,
            E(delta=D(tool_call=T(index=0, arguments_json="{}"))),
        ),
        (text("ab"), E(finished=chat_pb.ChoiceFinished()), False, text("ab")),
        (
            E(usage=usage_pb.TokenUsage()),
            E(usage=usage_pb.TokenUsage()),
            False,
            E(usage=usage_pb.TokenUsage()),
        ),
    ],
)
def test_merge_into(first: E, second: E, merged: bool, expected: E) -> None:
    assert merge_into(first, second) is merged
    assert first == expected


def test_coalesce_merges_runs_and_keeps_order() -> None:
    finished = E(finished=chat_pb.ChoiceFinished())
    events = [text("a"), text("b"), text("x", 1), text("c"), finished, text("d"), text("e")]

    assert coalesce(events) == [text("ab"), text("x", 1), text("c"), finished, text("de")]
    assert coalesce([]) == []


async def _batches(
    *batches: list[E], fail: Exception | None = None, closed: list[bool] | None = None
) -> AsyncGenerator[list[E], None]:
    try:
        for batch in batches:
            await asyncio.sleep(0)
            yield batch
        if fail is not None:
            raise fail
    finally:
        if closed is not None:
            closed.append(True)


async def _events(streams: list[AsyncGenerator[list[E], None]]) -> list[E]:
    """The interleaved batches' events, coalesced per batch as the servicer does."""
    return [event async for batch in interleaved(streams) for event in coalesce(batch)]


async def test_several_streams_interleave_and_each_choice_keeps_its_text() -> None:
    first = _batches([text("a", 0)], [text("b", 0)])
    second = _batches([text("x", 1)], [text("y", 1)])

    events = await _events([first, second])

    by_choice = {0: "", 1: ""}
    for event in events:
        by_choice[event.delta.choice_index] += event.delta.text
    assert by_choice == {0: "ab", 1: "xy"}


async def test_what_is_queued_when_asked_comes_as_one_batch() -> None:
    first = _batches([text("a", 0)], [text("b", 0)])
    second = _batches([text("x", 1)], [text("y", 1)])
    batches = interleaved([first, second])

    arrived = await anext(batches)
    await asyncio.sleep(0.01)  # the rest of both streams is queued by now
    rest = await anext(batches)

    assert len(arrived) + len(rest) == 4
    assert sorted(e.delta.text for e in arrived + rest) == ["a", "b", "x", "y"]
    with pytest.raises(StopAsyncIteration):
        await anext(batches)


@pytest.mark.parametrize("streams", [1, 2])
async def test_a_failure_ends_the_events_after_what_came_before(streams: int) -> None:
    failing = _batches([text("a"), text("b")], fail=RuntimeError("broke"))
    others = [_batches([text("z", 1)]) for _ in range(streams - 1)]
    seen: list[E] = []

    with pytest.raises(RuntimeError, match="broke"):
        async for batch in interleaved([failing, *others]):
            seen.extend(batch)

    assert "".join(e.delta.text for e in seen if e.delta.choice_index == 0) == "ab"


async def test_closing_the_interleaving_closes_every_stream() -> None:
    closed: list[bool] = []
    streams = [_batches([text("a", i)], [text("b", i)], closed=closed) for i in range(2)]
    batches = interleaved(streams)

    assert await anext(batches)
    await batches.aclose()

    assert closed == [True, True]
