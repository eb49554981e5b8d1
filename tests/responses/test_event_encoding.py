"""The short ways events are written and read: an answer's text delta written straight as
bytes must be the bytes of the whole event encoded, whatever the text holds, and the
edge's read of an event's type off the front of its JSON must agree with parsing it.
(The whole stream's bytes are pinned by ``test_stream_bytes``.)"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from drafter.edge.responses.call import event_type
from drafter.services.chat.responses.output import ResponseWriter
from drafter.services.chat.responses.request import translate
from drafter.services.chat.upstream.events import Fields

TEXTS = [
    "Hello",
    "",
    'quotes " and \\ backslashes',
    "lines\nand\ttabs\r\n",
    "control \x00\x1f\x7f",
    "h\u00e9llo w\u00f6rld \u2014 \u201ctypographic\u201d \u2018quotes\u2019",
    "emoji 🎉👩‍💻 and CJK 你好",
    "\u2028\u2029 line separators",
    "</script><!-- html -->",
    '{"json": [1, 2.5, null]}',
]


def _writer() -> ResponseWriter:
    tools = translate({"input": "hi"}, "claude-haiku-4-5").tools
    writer = ResponseWriter({"id": "resp_1", "output": []}, tools, summary=False)
    writer.start()
    return writer


def _attributes(value: Any) -> Any:
    """An upstream event as an object read by attribute (as the SDK's typed events are)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _attributes(v) for k, v in value.items()})
    return value


@pytest.mark.parametrize("shape", [Fields, _attributes], ids=["fields", "attributes"])
def test_a_text_delta_is_the_bytes_of_the_whole_event(shape: Callable[[Any], Any]) -> None:
    writer = _writer()
    block = {"type": "text", "text": ""}
    start = {"type": "content_block_start", "index": 0, "content_block": block}
    added = writer.events_from(shape(start))
    item_id = orjson.loads(added[0])["item"]["id"]

    for sequence, text in enumerate(TEXTS, start=4):
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        written = writer.events_from(shape(delta))

        whole = {
            "type": "response.output_text.delta",
            "sequence_number": sequence,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "delta": text,
            "logprobs": [],
        }
        assert written == [orjson.dumps(whole)]

    stop = writer.events_from(shape({"type": "content_block_stop", "index": 0}))
    assert orjson.loads(stop[0])["text"] == "".join(TEXTS)
    assert orjson.loads(stop[0])["sequence_number"] == 4 + len(TEXTS)


def test_a_block_that_starts_with_text_writes_it_as_its_first_delta() -> None:
    writer = _writer()
    block = {"type": "text", "text": 'first "words"'}
    start = {"type": "content_block_start", "index": 0, "content_block": block}

    events = [orjson.loads(event) for event in writer.events_from(Fields(start))]

    assert [e["type"] for e in events] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert [e["sequence_number"] for e in events] == [2, 3, 4]
    assert events[2]["delta"] == 'first "words"'


@pytest.mark.parametrize(
    "event",
    [
        {"type": "response.output_text.delta", "sequence_number": 4, "delta": '"type":"x"'},
        {"type": "response.completed", "sequence_number": 9, "response": {"type": "y"}},
        {"sequence_number": 1, "type": "error", "code": "api_error"},  # type not first
        {"delta": "a", "type": "response.output_text.delta"},
    ],
)
def test_the_edge_reads_the_type_the_event_has(event: dict[str, Any]) -> None:
    assert event_type(orjson.dumps(event)) == event["type"].encode()
