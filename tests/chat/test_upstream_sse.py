"""Reading Anthropic's SSE off the response: events, fields, comments and errors."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest
from anthropic._response import AsyncAPIResponse

from services.chat.upstream_sse import Fields, upstream_events


class _Lines:
    """The one method of the SDK's response that the reader uses, over fixed lines."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self.http_response = httpx2.Response(
            200, request=httpx2.Request("POST", "http://upstream/v1/messages")
        )

    async def iter_lines(self) -> Any:
        for line in self._lines:
            yield line


async def _read(lines: list[str]) -> list[Fields]:
    response: AsyncAPIResponse[Any] = _Lines(lines)  # type: ignore[assignment]
    return [event async for event in upstream_events(response)]


async def test_events_read_like_the_sdks_objects() -> None:
    events = await _read(
        [
            "event: content_block_delta",
            'data: {"type":"content_block_delta","index":0,'
            '"delta":{"type":"text_delta","text":"Hi"}}',
            "",
            ": a comment",
            "event: ping",
            'data: {"type": "ping"}',
            "",
        ]
    )
    assert [e.type for e in events] == ["content_block_delta", "ping"]
    assert events[0].delta.text == "Hi" and events[0].index == 0
    assert events[0].delta.partial_json is None  # absent fields read as None


async def test_data_over_several_lines_and_a_missing_final_blank_line() -> None:
    events = await _read(["event: message_stop", 'data: {"type":', 'data: "message_stop"}'])
    assert events == [{"type": "message_stop"}]


async def test_an_error_event_raises_what_the_sdk_raises() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    lines = [
        "event: error",
        'data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
        "",
    ]
    with pytest.raises(anthropic.APIStatusError) as raised:
        await _read(lines)
    assert raised.value.body == body
