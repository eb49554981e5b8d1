"""Reading Anthropic's answer off the response: SSE events (split anywhere across reads,
any line ending), fields, comments, errors, and a whole Message unfolded into events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import orjson
import pytest

from drafter.services.chat.from_anthropic import ChoiceBuilder, ChoiceStream
from drafter.services.chat.upstream.events import Fields, UpstreamEvents, message_events
from drafter.services.chat.upstream.exceptions import UnreadableAnswer, UpstreamStatusError
from drafter.services.chat.upstream.transport import UpstreamTransport
from tests.chat.upstream.conftest import Answer, Reader, Serve, Writer

STREAM = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"usage":{"input_tokens":3}}}\n'
    b"\n"
    b": a comment\n"
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hi"}}\n'
    b"\n"
    b"event: ping\n"
    b'data: {"type": "ping"}\n'
    b"\n"
)


async def upstream_event_batches(response: httpx2.Response) -> AsyncIterator[list[Fields]]:
    """The service's per-read batches (``UpstreamEvents.next_batch``) as an iterator."""
    events = UpstreamEvents(response)
    while (batch := await events.next_batch()) is not None:
        yield batch


class _Reads(httpx2.AsyncByteStream):
    """A body that arrives in the given network reads."""

    def __init__(self, reads: list[bytes]) -> None:
        self._reads = reads

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for read in self._reads:
            yield read


def _response(reads: list[bytes]) -> httpx2.Response:
    request = httpx2.Request("POST", "http://upstream/v1/messages")
    return httpx2.Response(200, stream=_Reads(reads), request=request)


async def _read(reads: list[bytes]) -> list[Fields]:
    return [event async for batch in upstream_event_batches(_response(reads)) for event in batch]


async def test_events_that_arrive_together_come_as_one_batch() -> None:
    half = len(STREAM) // 2
    batches = [b async for b in upstream_event_batches(_response([STREAM[:half], STREAM[half:]]))]
    whole = [b async for b in upstream_event_batches(_response([STREAM]))]

    assert [[e.type for e in batch] for batch in whole] == [
        ["message_start", "content_block_delta", "ping"]
    ]
    assert len(batches) == 2 and [e for batch in batches for e in batch] == whole[0]


async def test_events_read_like_the_sdks_objects() -> None:
    events = await _read([STREAM])
    assert [e.type for e in events] == ["message_start", "content_block_delta", "ping"]
    assert events[1].delta.text == "Hi" and events[1].index == 0
    assert events[0].message.usage.input_tokens == 3  # nested objects read the same way
    assert events[1].delta.partial_json is None  # absent fields read as None


@pytest.mark.parametrize("size", [1, 2, 7, 64])
async def test_reads_split_anywhere_give_the_same_events(size: int) -> None:
    reads = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert await _read(reads) == await _read([STREAM])


@pytest.mark.parametrize("size", [1, 3, 1000])
async def test_crlf_and_cr_line_endings(size: int) -> None:
    whole = await _read([STREAM])
    for ending in (b"\r\n", b"\r"):
        body = STREAM.replace(b"\n", ending)
        assert await _read([body[i : i + size] for i in range(0, len(body), size)]) == whole


async def test_data_over_several_lines_and_a_missing_final_blank_line() -> None:
    events = await _read([b'event: message_stop\ndata: {"type":\ndata: "message_stop"}'])
    assert events == [{"type": "message_stop"}]


async def test_an_error_event_raises_a_status_error_after_the_events_before_it() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    error = b"event: error\ndata: " + orjson.dumps(body) + b"\n\n"
    seen: list[Fields] = []
    with pytest.raises(UpstreamStatusError) as raised:
        async for batch in upstream_event_batches(_response([STREAM + error + STREAM])):
            seen.extend(batch)
    assert raised.value.body == body
    assert (raised.value.status_code, raised.value.error_type) == (200, "overloaded_error")
    assert [e.type for e in seen] == ["message_start", "content_block_delta", "ping"]


async def test_data_that_is_not_json_is_an_unreadable_answer() -> None:
    with pytest.raises(UnreadableAnswer):
        await _read([b"event: message_start\ndata: {not json\n\n"])


def _unfold(message: dict[str, Any], **options: Any) -> tuple[ChoiceStream, Any]:
    choice = ChoiceStream(**options)
    builder = ChoiceBuilder()
    for event in message_events(orjson.dumps(message)):
        for proto_event in choice.events_from(event):
            builder.add(proto_event)
    return choice, builder.build()


MESSAGE: dict[str, Any] = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "model": "claude-haiku-4-5-20251001",
    "content": [
        {"type": "thinking", "thinking": "Let me see.", "signature": "sig-1"},
        {"type": "text", "text": "I will look it up."},
        {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}},
        {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 4},
}


def test_a_whole_message_unfolds_into_the_events_of_its_stream() -> None:
    events = message_events(orjson.dumps(MESSAGE))
    kinds = [(e.type, e.delta.type if e.type == "content_block_delta" else None) for e in events]
    assert kinds[0] == ("message_start", None) and kinds[-2:] == [
        ("message_delta", None),
        ("message_stop", None),
    ]
    assert ("content_block_delta", "signature_delta") in kinds
    assert events[1].content_block == {"type": "thinking", "thinking": "", "signature": ""}


def test_a_whole_message_translates_like_its_stream() -> None:
    choice, built = _unfold(MESSAGE, include_reasoning=True, keep_thinking=True)
    assert built.content == "I will look it up." and built.reasoning == "Let me see."
    assert [(c.id, c.name, c.arguments_json) for c in built.tool_calls] == [
        ("toolu_1", "lookup", '{"q":"x"}'),
        ("toolu_2", "now", "{}"),
    ]
    assert choice.thinking_blocks == [
        {"type": "thinking", "thinking": "Let me see.", "signature": "sig-1"}
    ]
    assert choice.stop_reason == "tool_use"
    assert (choice.usage.input_tokens, choice.usage.output_tokens) == (10, 20)
    assert choice.usage.cache_read_input_tokens == 4


def test_a_body_that_is_not_a_message_is_an_unreadable_answer() -> None:
    with pytest.raises(UnreadableAnswer):
        message_events(b'{"type": "error"}')
    with pytest.raises(UnreadableAnswer):
        message_events(b"<html>")


def _sse(kind: str, **fields: Any) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps({"type": kind, **fields}))


def _text(text: str) -> bytes:
    return _sse("content_block_delta", index=0, delta={"type": "text_delta", "text": text})


def _paced_answer(reads: list[bytes]) -> Answer:
    """An SSE answer over the real transport: each read 0.1 s after the last (the reader
    waits for each by then)."""

    async def answer(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for read in reads:
            await asyncio.sleep(0.1)
            writer.write(b"%x\r\n%b\r\n" % (len(read), read))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        return True

    return answer


async def _on_arrival(
    serve: Serve, reads: list[bytes], take: Callable[[Fields], bool]
) -> tuple[list[list[str]], BaseException | None]:
    """The batches ``next_batch`` gives (their events' types, or deltas' text) while
    ``take`` is offered the events as they arrive, and what it raised in the end."""
    _, url = await serve(_paced_answer(reads))
    transport = UpstreamTransport()
    response = await transport.handle_async_request(httpx2.Request("POST", url, content=b"x"))
    events = UpstreamEvents(response, take)
    batches: list[list[str]] = []
    failure: BaseException | None = None
    try:
        while (batch := await events.next_batch()) is not None:
            batches.append([e.delta.text if e.delta else e.type for e in batch])
    except Exception as exc:
        failure = exc
    await response.aclose()
    await transport.aclose()
    return batches, failure


def _text_only(taken: list[str]) -> Callable[[Fields], bool]:
    def take(event: Fields) -> bool:
        if event.type != "content_block_delta":
            return False
        taken.append(event.delta.text)
        return True

    return take


async def test_events_taken_as_they_arrive_are_not_read_and_the_rest_keep_their_order(
    serve: Serve,
) -> None:
    """From the first event left in a read, every event of it is read, in order, even
    one that would have been taken; what comes after is offered again."""
    taken: list[str] = []
    reads = [
        _sse("message_start", message={"usage": {}}),
        _text("a"),
        _text("b") + _sse("message_delta", delta={}, usage={}) + _text("c"),
        _text("d"),
        _sse("message_stop"),
    ]

    batches, failure = await _on_arrival(serve, reads, _text_only(taken))

    assert failure is None
    assert taken == ["a", "b", "d"]
    assert batches == [["message_start"], ["message_delta", "c"], ["message_stop"]]


async def test_an_error_event_after_events_taken_as_they_arrive_is_raised(
    serve: Serve,
) -> None:
    taken: list[str] = []
    error = {"type": "overloaded_error", "message": "Overloaded"}
    reads = [_text("a"), _text("b") + _sse("error", error=error)]

    batches, failure = await _on_arrival(serve, reads, _text_only(taken))

    assert taken == ["a", "b"] and batches == []
    assert isinstance(failure, UpstreamStatusError)
    assert failure.body == {"type": "error", "error": error}


async def test_what_the_taker_raises_is_raised_by_the_reader(serve: Serve) -> None:
    def broken(event: Fields) -> bool:
        raise RuntimeError("the taker broke")

    batches, failure = await _on_arrival(serve, [_text("a"), _text("b")], broken)

    assert batches == []
    assert isinstance(failure, RuntimeError) and str(failure) == "the taker broke"


async def test_a_body_not_read_off_the_transport_is_never_taken() -> None:
    taken: list[str] = []
    events = UpstreamEvents(_response([_text("a"), _text("b")]), _text_only(taken))

    batches = []
    while (batch := await events.next_batch()) is not None:
        batches.append([e.delta.text for e in batch])

    assert batches == [["a"], ["b"]] and taken == []
