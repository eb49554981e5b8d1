"""Anthropic message events → Responses stream events and output items (pure).

Each upstream content block is one output item: ``thinking``/``redacted_thinking`` a
``reasoning`` item (the thinking text as its summary when the request asked for one; its
signed blocks in ``encrypted_content`` as JSON, which the edge seals), ``text`` a
``message`` item with one ``output_text`` part, ``tool_use`` a ``function_call`` or, for a
custom tool, a ``custom_tool_call`` whose ``input`` is the call's one string; the web
search server tool's ``server_tool_use`` and its ``web_search_tool_result`` together one
``web_search_call`` item (``action.query``; ``action.sources`` when ``include`` asks for
them; ``failed`` when the upstream's search answered an error). The forced
tool that carries a structured answer on a model without structured outputs
(``output_format``) is answered as message text. Every event is numbered
(``sequence_number``) from 0; the last is ``response.completed``, or
``response.incomplete`` (``max_output_tokens``: the upstream's ``max_tokens`` cut it;
``content_filter``: it refused).

Events leave the writer as JSON, encoded as each is made (a later change to an item
cannot reach an event already written). Most of a stream is answer text: its
``output_text.delta`` is the encoded text between the two fixed ends of its item's
delta, the same bytes the whole event's encoding gives, without building the event.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.services.chat.from_anthropic import update_usage
from drafter.services.chat.responses.tools import CUSTOM_INPUT, WEB_SEARCH_NAME, ToolTable

Event = bytes  # one Responses stream event, as JSON
Item = dict[str, Any]

# Anthropic stop reasons that leave a response incomplete, and OpenAI's reason for it.
INCOMPLETE_REASONS: dict[str, str] = {
    "max_tokens": "max_output_tokens",
    "model_context_window_exceeded": "max_output_tokens",
    "refusal": "content_filter",
}
ITEM_PREFIXES = {
    "message": "msg_",
    "reasoning": "rs_",
    "function_call": "fc_",
    "custom_tool_call": "ctc_",
    "web_search_call": "ws_",
}
# The content of a ``web_search_tool_result`` when the search failed (Anthropic's web
# search tool docs: ``{"type": "web_search_tool_result_error", "error_code": ...}``).
SEARCH_ERROR = "web_search_tool_result_error"
_TEXT_DELTA_HEAD = b'{"type":"response.output_text.delta","sequence_number":'
_TEXT_DELTA_TAIL = b',"logprobs":[]}'


def item_id(kind: str) -> str:
    return ITEM_PREFIXES[kind] + secrets.token_hex(16)


def usage_object(usage: usage_pb.TokenUsage) -> dict[str, Any]:
    """OpenAI's usage: input tokens include the cache's reads and writes."""
    input_tokens = (
        usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    )
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": input_tokens + usage.output_tokens,
    }


@dataclass
class _Open:
    """An output item being written, and what its block has sent so far."""

    output_index: int
    item: Item
    pieces: list[str] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    # What an ``output_text.delta`` of this item has between its sequence number and its
    # text, once it has had one.
    text_delta_middle: bytes = b""


class ResponseWriter:
    """Writes the events of one response from the upstream's message events."""

    def __init__(
        self,
        response: dict[str, Any],
        tools: ToolTable,
        *,
        summary: bool,
        format_tool: str | None = None,
    ) -> None:
        self.response = response
        self.usage = usage_pb.TokenUsage()
        self.stop_reason: str | None = None
        self._tools = tools
        self._summary = summary
        self._format_tool = format_tool
        self._sequence = 0
        self._output: list[Item] = []
        self._open: dict[int, _Open] = {}
        # The signed thinking blocks of the answer and the ids of its tool calls.
        self.thinking_blocks: list[dict[str, Any]] = []
        self.tool_call_ids: list[str] = []
        # Web searches the upstream is running, by its server_tool_use id.
        self._searches: dict[str, _Open] = {}

    def _event(self, kind: str, **fields: Any) -> Event:
        event = orjson.dumps({"type": kind, "sequence_number": self._sequence, **fields})
        self._sequence += 1
        return event

    def _snapshot(self, status: str) -> dict[str, Any]:
        return {**self.response, "status": status, "output": list(self._output)}

    def start(self) -> list[Event]:
        snapshot = self._snapshot("in_progress")
        return [
            self._event("response.created", response=snapshot),
            self._event("response.in_progress", response=snapshot),
        ]

    def events_from(self, event: Any) -> list[Event]:
        if not isinstance(event, dict):  # an event object read only by attribute
            kind = event.type
        elif (kind := event.get("type")) == "content_block_delta":
            # Most of a stream: answer text, read off the event's JSON as it is.
            delta = event.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                opened = self._open.get(event.get("index", -1))
                return [self._text(opened, delta.get("text", ""))] if opened is not None else []
        handler = _HANDLERS.get(kind)
        return handler(self, event) if handler is not None else []

    def plain_text_events(self, event: Any) -> list[Event] | None:
        """``events_from(event)`` when ``event`` is answer text of an open item (a text
        delta); None, with nothing done, for any other event."""
        if not isinstance(event, dict) or event.get("type") != "content_block_delta":
            return None
        delta = event.get("delta")
        opened = self._open.get(event.get("index", -1))
        if not isinstance(delta, dict) or delta.get("type") != "text_delta" or opened is None:
            return None
        return [self._text(opened, delta.get("text", ""))]

    def finish(self) -> list[Event]:
        """The last event: the whole response, completed or incomplete."""
        reason = INCOMPLETE_REASONS.get(self.stop_reason or "")
        status = "incomplete" if reason else "completed"
        response = self._snapshot(status)
        response["usage"] = usage_object(self.usage)
        if reason:
            response["incomplete_details"] = {"reason": reason}
            if self._output and "status" in self._output[-1]:
                self._output[-1]["status"] = "incomplete"  # the item the limit cut
        return [self._event(f"response.{status}", response=response)]

    def _message_start(self, event: Any) -> list[Event]:
        update_usage(self.usage, event.message.usage)
        return []

    def _message_delta(self, event: Any) -> list[Event]:
        update_usage(self.usage, event.usage)
        if event.delta.stop_reason is not None:
            self.stop_reason = event.delta.stop_reason
        return []

    def _add(self, index: int, item: Item) -> list[Event]:
        opened = _Open(len(self._output), item)
        self._open[index] = opened
        self._output.append(item)
        return [
            self._event("response.output_item.added", output_index=opened.output_index, item=item)
        ]

    def _block_start(self, event: Any) -> list[Event]:
        block = event.content_block
        kind = block.type
        if kind in ("thinking", "redacted_thinking"):
            item: Item = {"id": item_id("reasoning"), "type": "reasoning", "summary": []}
            events = self._add(event.index, item)
            opened = self._open[event.index]
            if kind == "redacted_thinking":
                opened.blocks.append({"type": "redacted_thinking", "data": block.data})
            else:
                opened.blocks.append(
                    {"type": "thinking", "thinking": "", "signature": block.signature or ""}
                )
                if self._summary:
                    events += self._summary_part_added(opened)
            return events
        if kind == "text" or (kind == "tool_use" and block.name == self._format_tool):
            events = self._add(event.index, _message_item())
            opened = self._open[event.index]
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            events.append(
                self._event(
                    "response.content_part.added", **_where(opened), content_index=0, part=part
                )
            )
            if kind == "text" and block.text:
                events.append(self._text(opened, block.text))
            return events
        if kind == "tool_use":
            name = self._tools.lookup(block.name)
            if name.kind == "custom":
                item = {
                    "id": item_id("custom_tool_call"),
                    "type": "custom_tool_call",
                    "status": "in_progress",
                    "call_id": block.id,
                    "name": name.name,
                    "input": "",
                }
            else:
                item = {
                    "id": item_id("function_call"),
                    "type": "function_call",
                    "status": "in_progress",
                    "call_id": block.id,
                    "name": name.name,
                    "arguments": "",
                }
            if name.namespace:
                item["namespace"] = name.namespace
            self.tool_call_ids.append(block.id)
            return self._add(event.index, item)
        if kind == "server_tool_use" and block.name == WEB_SEARCH_NAME:
            item = {
                "id": item_id("web_search_call"),
                "type": "web_search_call",
                "status": "in_progress",
                "action": {"type": "search", "query": ""},
            }
            events = self._add(event.index, item)
            opened = self._open[event.index]
            if block.input:
                opened.pieces.append(json.dumps(block.input))
            self._searches[block.id] = opened
            return [*events, self._event("response.web_search_call.in_progress", **_where(opened))]
        if kind == "web_search_tool_result":
            return self._search_done(block)
        return []  # other server tools and blocks are not Responses output

    def _search_done(self, block: Any) -> list[Event]:
        opened = self._searches.pop(block.tool_use_id, None)
        if opened is None:
            return []
        item = opened.item
        results = block.content
        failed = isinstance(results, dict) and results.get("type") == SEARCH_ERROR
        if self._tools.search_sources and isinstance(results, list):
            item["action"]["sources"] = [
                {"type": "url", "url": result["url"]}
                for result in results
                if isinstance(result, dict) and result.get("url")
            ]
        item["status"] = "failed" if failed else "completed"
        return [
            self._event("response.web_search_call.completed", **_where(opened)),
            self._event("response.output_item.done", output_index=opened.output_index, item=item),
        ]

    def _summary_part_added(self, opened: _Open) -> list[Event]:
        part = {"type": "summary_text", "text": ""}
        opened.item["summary"] = [part]
        return [
            self._event(
                "response.reasoning_summary_part.added",
                **_where(opened),
                summary_index=0,
                part=part,
            )
        ]

    def _text(self, opened: _Open, text: str) -> Event:
        """``response.output_text.delta``: the bytes ``_event`` would give, with the
        item's fixed fields encoded once."""
        opened.pieces.append(text)
        middle = opened.text_delta_middle
        if not middle:
            where = orjson.dumps({**_where(opened), "content_index": 0, "delta": None})
            middle = opened.text_delta_middle = b"," + where[1 : -len(b"null}")]
        sequence = self._sequence
        self._sequence = sequence + 1
        return b"".join(
            (_TEXT_DELTA_HEAD, b"%d" % sequence, middle, orjson.dumps(text), _TEXT_DELTA_TAIL)
        )

    def _block_delta(self, event: Any) -> list[Event]:
        opened = self._open.get(event.index)
        if opened is None:
            return []
        delta = event.delta
        kind = delta.type
        item_kind = opened.item["type"]
        if kind == "text_delta":
            return [self._text(opened, delta.text)]
        if kind == "thinking_delta":
            opened.pieces.append(delta.thinking)
            if not self._summary:
                return []
            return [
                self._event(
                    "response.reasoning_summary_text.delta",
                    **_where(opened),
                    summary_index=0,
                    delta=delta.thinking,
                )
            ]
        if kind == "signature_delta" and opened.blocks:
            opened.blocks[-1]["signature"] = delta.signature
            return []
        if kind != "input_json_delta" or not delta.partial_json:
            return []
        if item_kind == "message":  # the forced format tool: its input is the answer
            return [self._text(opened, delta.partial_json)]
        opened.pieces.append(delta.partial_json)
        if item_kind == "function_call":
            return [
                self._event(
                    "response.function_call_arguments.delta",
                    **_where(opened),
                    delta=delta.partial_json,
                )
            ]
        return []  # a custom tool's input is known once its JSON is whole

    def _block_stop(self, event: Any) -> list[Event]:
        opened = self._open.pop(event.index, None)
        if opened is None:
            return []
        item = opened.item
        kind = item["type"]
        text = "".join(opened.pieces)
        events: list[Event] = []
        if kind == "web_search_call":  # done when its result arrives
            query = _json_object(text).get("query")
            item["action"]["query"] = query if isinstance(query, str) else ""
            item["status"] = "searching"
            return [self._event("response.web_search_call.searching", **_where(opened))]
        if kind == "message":
            text = text or ("{}" if self._format_tool else "")
            part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
            events.append(
                self._event(
                    "response.output_text.done",
                    **_where(opened),
                    content_index=0,
                    text=text,
                    logprobs=[],
                )
            )
            events.append(
                self._event(
                    "response.content_part.done", **_where(opened), content_index=0, part=part
                )
            )
            item["content"] = [part]
            item["status"] = "completed"
        elif kind == "reasoning":
            block = opened.blocks[-1]
            if block["type"] == "thinking":
                block["thinking"] = text
            if self._summary and block["type"] == "thinking":
                part = {"type": "summary_text", "text": text}
                events.append(
                    self._event(
                        "response.reasoning_summary_text.done",
                        **_where(opened),
                        summary_index=0,
                        text=text,
                    )
                )
                events.append(
                    self._event(
                        "response.reasoning_summary_part.done",
                        **_where(opened),
                        summary_index=0,
                        part=part,
                    )
                )
                item["summary"] = [part]
            item["encrypted_content"] = json.dumps(opened.blocks)
            self.thinking_blocks.extend(opened.blocks)
        elif kind == "function_call":
            arguments = text or "{}"
            item["arguments"] = arguments
            item["status"] = "completed"
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    **_where(opened),
                    name=item["name"],
                    arguments=arguments,
                )
            )
        else:
            value = _custom_input(text)
            item["input"] = value
            item["status"] = "completed"
            events.append(
                self._event("response.custom_tool_call_input.delta", **_where(opened), delta=value)
            )
            events.append(
                self._event("response.custom_tool_call_input.done", **_where(opened), input=value)
            )
        events.append(
            self._event("response.output_item.done", output_index=opened.output_index, item=item)
        )
        return events


# Each upstream event's handler, by type (on the class: bound methods kept on each
# instance would make every response's writer a reference cycle).
_HANDLERS: dict[str, Callable[[ResponseWriter, Any], list[Event]]] = {
    "message_start": ResponseWriter._message_start,
    "content_block_start": ResponseWriter._block_start,
    "content_block_delta": ResponseWriter._block_delta,
    "content_block_stop": ResponseWriter._block_stop,
    "message_delta": ResponseWriter._message_delta,
}


def _message_item() -> Item:
    return {
        "id": item_id("message"),
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }


def _where(opened: _Open) -> dict[str, Any]:
    return {"item_id": opened.item["id"], "output_index": opened.output_index}


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _custom_input(arguments: str) -> str:
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return arguments
    return str(value.get(CUSTOM_INPUT, "")) if isinstance(value, dict) else arguments
