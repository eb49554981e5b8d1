"""The upstream's answer to a passed-through Messages request, as it goes back (pure).

A stream is cut into complete server-sent events, each handed on as the bytes the upstream
sent (its ``event:`` and ``data:`` lines and the blank line after them), nothing held back
beyond the one event still arriving. Only the events that carry usage are read as they
pass: ``message_start`` (input and cache counts) and ``message_delta`` (the cumulative
output count, and any input counts it repeats), into one ``TokenUsage`` with the cache
reads and writes apart; ``message_stop`` says the message ended. A whole JSON answer gives
its usage the same way.
"""

from __future__ import annotations

from typing import Any

import orjson

from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.services.chat.from_anthropic import update_usage
from drafter.services.chat.upstream.events import Fields

# What ends an event: a blank line (the spec allows CRLF, LF or CR line ends; Anthropic
# sends LF).
_EVENT_ENDS = (b"\n\n", b"\r\n\r\n", b"\r\r")
_LF_END = (b"\n\n",)
_USAGE_EVENTS = (b"message_start", b"message_delta")


class EventSplitter:
    """Bytes in, complete events out, each exactly as it arrived."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer + chunk if self._buffer else chunk
        ends = _EVENT_ENDS if b"\r" in buffer else _LF_END
        events: list[bytes] = []
        start = 0
        while True:
            end = _event_end(buffer, start, ends)
            if end < 0:
                break
            events.append(buffer[start:end])
            start = end
        self._buffer = buffer[start:]
        return events

    def rest(self) -> bytes:
        """What arrived after the last complete event (an unterminated last event)."""
        rest, self._buffer = self._buffer, b""
        return rest


def _event_end(buffer: bytes, start: int, ends: tuple[bytes, ...]) -> int:
    """Where the first event from ``start`` ends (after its blank line), or -1."""
    best = -1
    for end in ends:
        found = buffer.find(end, start)
        if found >= 0 and (best < 0 or found + len(end) < best):
            best = found + len(end)
    return best


def event_name_and_data(event: bytes) -> tuple[bytes, bytes]:
    """An event's ``event:`` name and its ``data:`` joined (b"" when absent)."""
    name, data = b"", []
    for line in event.splitlines():
        field, _, value = line.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if field == b"event":
            name = value
        elif field == b"data":
            data.append(value)
    return name, b"\n".join(data)


class UsageReader:
    """Reads the usage of an answer as its events pass (or of a whole Message)."""

    def __init__(self) -> None:
        self.usage = usage_pb.TokenUsage()
        self.started = False  # message_start (or a whole Message) was seen
        self.stopped = False  # message_stop was seen

    def read_event(self, event: bytes) -> bytes:
        """Takes what ``event`` says about usage; returns its name."""
        head = event[:64]
        if b"message_" not in head:
            return event_name_and_data(event)[0] if b"event" in head else b""
        name, data = event_name_and_data(event)
        if name in _USAGE_EVENTS:
            payload = _json(data)
            usage = payload.get("usage")
            if name == b"message_start":
                self.started = True
                usage = (payload.get("message") or {}).get("usage")
            if isinstance(usage, dict):
                update_usage(self.usage, Fields(usage))
        elif name == b"message_stop":
            self.stopped = True
        return name

    def read_message(self, body: bytes) -> None:
        """Takes the usage of a whole Message (a non-streamed answer)."""
        message = _json(body)
        usage = message.get("usage")
        if message.get("type") == "message" and isinstance(usage, dict):
            self.started = self.stopped = True
            update_usage(self.usage, Fields(usage))


def _json(data: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
