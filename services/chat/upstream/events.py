"""Anthropic's answer as the events of a message stream, read straight off the response.

Two shapes arrive:

- a stream (``stream: true``): server-sent events, parsed from the raw bytes, each
  ``data`` one ``orjson.loads``, skipping the CPU of the SDK's typed events and text
  decoding (bench/ measures it).
- a whole Message (``stream: false``): :func:`message_events` unfolds it into the events
  its stream would have carried, so one translation (``from_anthropic``) serves both.

Events are :class:`Fields`, which read like the SDK's objects (``event.delta.text``; an
absent field reads as None). An ``error`` event raises ``UpstreamStatusError`` with the
stream's status and the event's body, so the one error table (``errors``) classifies it by
its error type; an unreadable body raises ``UnreadableAnswer``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import httpx2
import orjson

from drafter.services.chat.upstream.exceptions import (
    UnreadableAnswer,
    UpstreamError,
    UpstreamStatusError,
)
from drafter.services.chat.upstream.transport import body_reader, take_on_arrival

E = TypeVar("E")  # an event of a kind of stream (``ArrivingEvents``)


class Fields(dict[str, Any]):
    """A JSON object whose keys read as attributes (nested objects too: each becomes
    Fields on its first read, in place, so later reads cost nothing more)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        value = self.get(name)
        if type(value) is dict:
            value = self[name] = Fields(value)
        return value


def _json(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UnreadableAnswer("The upstream sent a body that is not JSON.") from exc


def _event(name: bytes | None, data: bytes, response: httpx2.Response) -> Fields:
    if name == b"error":
        try:
            body: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            body = data.decode(errors="replace")
        raise UpstreamStatusError(response.status_code, body, response.headers)
    return Fields(_json(data))


def _complete_lines(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The whole lines in ``buffer`` (without their ends) and the unfinished rest. A line
    ending in a lone CR waits for the next read, which may start with its LF."""
    if b"\r" not in buffer:  # LF alone ends every line (what Anthropic sends): one split
        lines = buffer.split(b"\n")
        return lines, lines.pop()
    lines = buffer.splitlines(keepends=True)
    rest = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
    return [line.rstrip(b"\r\n") for line in lines], rest


class _EventParser:
    """Server-sent event lines in, complete events out (comments and empty events skipped).
    A failure (an ``error`` event, unreadable data) ends the events and is kept in
    ``failure``, so the events before it in the same read are still delivered."""

    def __init__(self, response: httpx2.Response) -> None:
        self._response = response
        self._name: bytes | None = None
        self._data: list[bytes] = []
        self.failure: UpstreamError | None = None

    def feed(self, lines: list[bytes]) -> list[Fields]:
        events = []
        data = self._data
        for line in lines:
            if line[:6] == b"data: ":  # the usual shapes of the two fields first
                data.append(line[6:])
            elif line[:7] == b"event: ":
                self._name = line[7:]
            elif not line:
                if data:
                    try:
                        body = data[0] if len(data) == 1 else b"\n".join(data)
                        events.append(_event(self._name, body, self._response))
                    except UpstreamError as exc:
                        self.failure = exc
                        return events
                    data.clear()
                self._name = None
            elif not line.startswith(b":"):
                field, _, value = line.partition(b":")
                value = value[1:] if value.startswith(b" ") else value
                if field == b"event":
                    self._name = value
                elif field == b"data":
                    data.append(value)
        return events


class ArrivingEvents(ABC, Generic[E]):
    """A streamed answer's events, in order, as a list per network read: the events in
    one list arrived together (``next_batch``, a plain coroutine called once per read: a
    stream's reads are its events; None after the last). What an event is, the kind says
    (``_feed``, ``_last``; a failure found in the bytes is set in ``_failure``, raised
    after the events before it).

    With ``on_arrival`` (and a body read straight off the upstream transport's
    connection), bytes that arrive while ``next_batch`` waits are made events as they
    arrive, and those offered to ``on_arrival`` in order, within the transport's
    callback: the events it takes (True) are done with, with no wake-up of the waiting
    task; from the first it leaves, the events are ``next_batch``'s, as if read then."""

    def __init__(self, response: httpx2.Response, on_arrival: Callable[[E], bool] | None) -> None:
        self._read = body_reader(response)
        self._ended = False
        self._failure: Exception | None = None
        self._left: list[E] = []  # made on arrival, not taken
        self._broken: Exception | None = None  # raised by ``on_arrival``
        self._on_arrival = on_arrival
        if on_arrival is not None and not take_on_arrival(response, self._arrived):
            self._on_arrival = None

    @abstractmethod
    def _feed(self, chunk: bytes) -> list[E]:
        """The events ``chunk`` completes."""

    @abstractmethod
    def _last(self) -> list[E]:
        """The events left at the end of the body (the last may lack its blank line)."""

    async def next_batch(self) -> list[E] | None:
        """The events of the next read that completed any; None after the last."""
        while not self._ended:
            chunk = await self._read() if not self._left else b""
            # Events made as they arrived and not taken come before what was read since.
            events, self._left = self._left, []
            if chunk is None:
                self._ended = True
                events += self._last()
            elif chunk:
                events += self._feed(chunk)
            if self._broken is not None:
                broken, self._broken = self._broken, None
                self._ended = True
                raise broken
            if self._failure is not None:
                self._ended = True
                if events:
                    return events  # the failure is raised at the next call
                break
            if events:
                return events
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        return None

    def _arrived(self, chunk: bytes) -> bool:
        """Bytes arrived while ``next_batch`` waits: their events offered to
        ``on_arrival``; True (wake the reader) from the first it leaves, or a failure."""
        take = self._on_arrival
        assert take is not None
        try:
            events = self._feed(chunk)
            for i, event in enumerate(events):
                if not take(event):
                    self._left = events[i:]
                    return True
        except Exception as exc:  # the reader raises it, where its stream ends
            self._broken = exc
            return True
        return self._failure is not None


class UpstreamEvents(ArrivingEvents[Fields]):
    """An SSE response's events as :class:`Fields` (:class:`ArrivingEvents`); an upstream
    ``error`` event or a malformed one is the failure."""

    def __init__(
        self, response: httpx2.Response, on_arrival: Callable[[Fields], bool] | None = None
    ) -> None:
        self._parser = _EventParser(response)
        self._rest = b""
        super().__init__(response, on_arrival)

    def _feed(self, chunk: bytes) -> list[Fields]:
        lines, self._rest = _complete_lines(self._rest + chunk if self._rest else chunk)
        parser = self._parser
        events = parser.feed(lines)
        if parser.failure is not None:
            self._failure, parser.failure = parser.failure, None
        return events

    def _last(self) -> list[Fields]:
        rest, self._rest = self._rest, b""
        return self._feed(rest + b"\n\n")  # the last line and event ended


# Up to this max_tokens (thinking included), a call whose caller does not stream asks the
# upstream for the whole Message (one JSON body instead of an event per token, about a
# quarter less CPU); the SDK's own guard for Opus 4 allows 8,192 tokens without streaming.
WHOLE_ANSWER_MAX_TOKENS = 8_192


def whole_message_reader(response: httpx2.Response) -> Callable[[], Awaitable[list[Fields] | None]]:
    """``UpstreamEvents.next_batch`` for a whole Message: its events (``message_events``)
    as one batch, then the end."""
    read = False

    async def next_batch() -> list[Fields] | None:
        nonlocal read
        if read:
            return None
        read = True
        return message_events(await response.aread())

    return next_batch


def message_events(body: bytes) -> list[Fields]:
    """A whole Message as the events of its stream: message_start, each content block
    opened, its content as one delta, closed; message_delta with the stop reason and
    usage; message_stop."""
    message = _json(body)
    if not isinstance(message, dict) or message.get("type") != "message":
        raise UnreadableAnswer("The upstream's answer is not a Message.")
    usage = message.get("usage") or {}
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {**message, "content": [], "stop_reason": None, "stop_sequence": None},
        }
    ]
    for index, block in enumerate(message.get("content") or ()):
        events += _block_events(index, block)
    stop = {key: message.get(key) for key in ("stop_reason", "stop_sequence")}
    events.append({"type": "message_delta", "delta": stop, "usage": usage})
    events.append({"type": "message_stop"})
    return [Fields(event) for event in events]


def _block_events(index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    """One content block as its stream carries it: empty at the start, then its content."""
    kind = block.get("type")
    deltas: list[dict[str, Any]] = []
    start = block
    if kind == "text":
        start = {**block, "text": ""}
        if block.get("text"):
            deltas.append({"type": "text_delta", "text": block["text"]})
    elif kind == "thinking":
        start = {**block, "thinking": "", "signature": ""}
        if block.get("thinking"):
            deltas.append({"type": "thinking_delta", "thinking": block["thinking"]})
        if block.get("signature"):
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind in ("tool_use", "server_tool_use"):
        start = {**block, "input": {}}
        if block.get("input"):  # a call without arguments streams no fragment worth sending
            arguments = orjson.dumps(block["input"]).decode()
            deltas.append({"type": "input_json_delta", "partial_json": arguments})
    return [
        {"type": "content_block_start", "index": index, "content_block": start},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]
