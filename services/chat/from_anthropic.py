"""Anthropic stream events, usage and stop reasons → proto events, Choices and Usage (pure).

One upstream message stream is one choice: :class:`ChoiceStream` turns its events into
``StreamCompleteResponse`` deltas and remembers usage and stop reason;
:class:`ChoiceBuilder` folds those deltas into a ``Choice`` for the unary call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.services.chat.stop_sequences import StopScanner
from drafter.token_estimate import estimated_tokens

FINISH_REASONS: dict[str, chat_pb.FinishReason] = {
    "end_turn": chat_pb.FINISH_REASON_STOP,
    "stop_sequence": chat_pb.FINISH_REASON_STOP,
    "pause_turn": chat_pb.FINISH_REASON_STOP,
    "max_tokens": chat_pb.FINISH_REASON_LENGTH,
    "model_context_window_exceeded": chat_pb.FINISH_REASON_LENGTH,
    "tool_use": chat_pb.FINISH_REASON_TOOL_CALLS,
    "refusal": chat_pb.FINISH_REASON_CONTENT_FILTER,
}
USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)

Event = chat_pb.StreamCompleteResponse


def finish_reason_from_stop_reason(stop_reason: str | None) -> chat_pb.FinishReason:
    """Anthropic's ``stop_reason`` in OpenAI's vocabulary; unknown reasons count as STOP."""
    return FINISH_REASONS.get(stop_reason or "", chat_pb.FINISH_REASON_STOP)


def update_usage(usage: usage_pb.TokenUsage, upstream: Any) -> None:
    """Overwrites ``usage`` with the counts ``upstream`` (``Usage`` of message_start, or the
    cumulative ``MessageDeltaUsage`` of message_delta) reports; absent counts are kept."""
    for name in USAGE_FIELDS:
        value = getattr(upstream, name, None)
        if value is not None:
            setattr(usage, name, value)
    details = getattr(upstream, "output_tokens_details", None)
    thinking = getattr(details, "thinking_tokens", None)
    if thinking is not None:
        usage.reasoning_tokens = thinking


def add_usage(total: usage_pb.TokenUsage, usage: usage_pb.TokenUsage) -> None:
    """Adds one choice's counts to the request's total."""
    for name in (*USAGE_FIELDS, "reasoning_tokens"):
        setattr(total, name, getattr(total, name) + getattr(usage, name))


class ChoiceStream:
    """Translates the events of one upstream message stream into proto events of choice
    ``index``. Thinking text is forwarded only with ``include_reasoning``; with
    ``keep_thinking`` the signed thinking blocks are collected in ``thinking_blocks`` and
    the tool-call ids in ``tool_call_ids``. The input of ``format_tool`` (the forced tool
    that carries a response_format answer) streams as the answer's text. ``local_stops``
    are stop sequences enforced here (see the module's docstring)."""

    def __init__(
        self,
        index: int = 0,
        *,
        include_reasoning: bool = False,
        keep_thinking: bool = False,
        format_tool: str | None = None,
        local_stops: Iterable[str] = (),
    ) -> None:
        self.index = index
        self.include_reasoning = include_reasoning
        self.keep_thinking = keep_thinking
        self.format_tool = format_tool
        self.usage = usage_pb.TokenUsage()
        self.stop_reason: str | None = None
        self.thinking_blocks: list[dict[str, Any]] = []
        self.tool_call_ids: list[str] = []
        self._tool_index: dict[int, int] = {}
        self._tool_args: set[int] = set()  # content indexes of calls that got argument text
        self._format_index = -1
        self._thinking: dict[int, tuple[dict[str, Any], list[str]]] = {}
        self._stops = StopScanner(local_stops)
        self._text_chars = 0  # answer text received, for the usage of a cut answer

    @property
    def finish_reason(self) -> chat_pb.FinishReason:
        if self.format_tool is not None and self.stop_reason == "tool_use":
            return chat_pb.FINISH_REASON_STOP  # the forced format tool is the answer itself
        return finish_reason_from_stop_reason(self.stop_reason)

    @property
    def has_thinking_to_keep(self) -> bool:
        return bool(self.thinking_blocks and self.tool_call_ids)

    @property
    def stopped_early(self) -> bool:
        """Whether a stop sequence enforced here ended the answer (the rest of the upstream
        message is not wanted)."""
        return self._stops.stopped

    def events_from(self, event: Any) -> list[Event]:
        """The proto events one upstream event gives (often none). After a stop sequence
        enforced here only usage is taken."""
        if not isinstance(event, dict):  # an event object read only by attribute
            kind = event.type
        elif (kind := event.get("type")) == "content_block_delta" and self.format_tool is None:
            # Most of a stream: answer text, read off the event's JSON as it is.
            delta = event.get("delta")
            stopped = self._stops.stopped
            if isinstance(delta, dict) and delta.get("type") == "text_delta" and not stopped:
                return self._text(delta.get("text") or "")
        if self._stops.stopped:
            if kind == "message_delta":
                update_usage(self.usage, event.usage)
            return []
        handler = _HANDLERS.get(kind)
        return handler(self, event) if handler is not None else []

    def plain_text(self, event: Any) -> str | None:
        """When ``event`` is answer text passed on as it came (a text delta, with no stop
        sequence enforced here and no format tool): its text, counted as
        ``events_from(event)`` would, whose one delta (none if empty) is
        ``text_delta(text)``; None, with nothing done, for any other event."""
        if self._stops.stops or self.format_tool is not None or not isinstance(event, dict):
            return None
        delta = event.get("delta")
        if (
            event.get("type") != "content_block_delta"
            or not isinstance(delta, dict)
            or delta.get("type") != "text_delta"
        ):
            return None
        text: str = delta.get("text") or ""
        self._text_chars += len(text)
        return text

    def _text(self, text: str) -> list[Event]:
        """Answer text, cut at a stop sequence enforced here (which ends the choice)."""
        self._text_chars += len(text)
        if not self._stops.stops:
            return [self.text_delta(text)] if text else []
        kept = self._stops.feed(text)
        events = [self.text_delta(kept)] if kept else []
        if self._stops.stopped:
            self.stop_reason = "stop_sequence"
            # The upstream's final count never comes for a stream closed here; until then
            # its usage says what message_start said. Estimate what it generated so far.
            estimate = estimated_tokens(self._text_chars)
            self.usage.output_tokens = max(self.usage.output_tokens, estimate)
            finished = chat_pb.ChoiceFinished(
                choice_index=self.index, finish_reason=chat_pb.FINISH_REASON_STOP
            )
            events.append(Event(finished=finished))
        return events

    def _flush_text(self) -> list[Event]:
        held = self._stops.flush()
        return [self.text_delta(held)] if held else []

    def _message_start(self, event: Any) -> list[Event]:
        update_usage(self.usage, event.message.usage)
        return []

    def _block_start(self, event: Any) -> list[Event]:
        block = event.content_block
        if block.type == "tool_use":
            if block.name == self.format_tool:
                self._format_index = event.index
                return []
            position = len(self._tool_index)
            self._tool_index[event.index] = position
            self.tool_call_ids.append(block.id)
            call = chat_pb.ToolCallDelta(index=position, id=block.id, name=block.name)
            return [self._delta(tool_call=call)]
        if self.keep_thinking:
            self._keep_thinking_block(event.index, block)
        if block.type == "text" and block.text and self.format_tool is None:
            return self._text(block.text)
        return []

    def _keep_thinking_block(self, index: int, block: Any) -> None:
        if block.type == "thinking":
            kept = {"type": "thinking", "thinking": "", "signature": block.signature or ""}
            self._thinking[index] = (kept, [block.thinking or ""])
            self.thinking_blocks.append(kept)
        elif block.type == "redacted_thinking":
            self.thinking_blocks.append({"type": "redacted_thinking", "data": block.data})

    def _block_delta(self, event: Any) -> list[Event]:
        delta = event.delta
        kind = delta.type
        if kind == "text_delta":
            return self._text(delta.text) if self.format_tool is None else []
        if kind == "thinking_delta":
            if event.index in self._thinking:
                self._thinking[event.index][1].append(delta.thinking)
            return [self._delta(reasoning=delta.thinking)] if self.include_reasoning else []
        if kind == "signature_delta" and event.index in self._thinking:
            self._thinking[event.index][0]["signature"] = delta.signature
        if kind != "input_json_delta" or not delta.partial_json:
            return []
        if event.index == self._format_index:
            self._tool_args.add(event.index)
            return [self._delta(text=delta.partial_json)]
        if event.index not in self._tool_index:
            return []
        self._tool_args.add(event.index)
        call = chat_pb.ToolCallDelta(
            index=self._tool_index[event.index], arguments_json=delta.partial_json
        )
        return [self._delta(tool_call=call)]

    def _block_stop(self, event: Any) -> list[Event]:
        """Closes a thinking block; a tool call without arguments gets ``{}``."""
        index = event.index
        thinking = self._thinking.pop(index, None)
        if thinking is not None:
            thinking[0]["thinking"] = "".join(thinking[1])
        if index in self._tool_index and index not in self._tool_args:
            self._tool_args.add(index)
            call = chat_pb.ToolCallDelta(index=self._tool_index[index], arguments_json="{}")
            return [self._delta(tool_call=call)]
        if index == self._format_index and self._format_index not in self._tool_args:
            self._tool_args.add(index)  # the forced answer streamed no text: an empty object
            return [self._delta(text="{}")]
        return self._flush_text()

    def _message_delta(self, event: Any) -> list[Event]:
        update_usage(self.usage, event.usage)
        if event.delta.stop_reason is None:
            return []
        self.stop_reason = event.delta.stop_reason
        finished = chat_pb.ChoiceFinished(choice_index=self.index, finish_reason=self.finish_reason)
        return [*self._flush_text(), Event(finished=finished)]

    def _delta(self, **content: Any) -> Event:
        return Event(delta=chat_pb.Delta(choice_index=self.index, **content))

    def text_delta(self, text: str) -> Event:
        """``_delta(text=text)``, set field by field (a quarter of the constructor's cost:
        a message passed to a constructor is copied)."""
        event = Event()
        delta = event.delta
        delta.SetInParent()
        delta.choice_index = self.index
        delta.text = text
        return event


# Each upstream event's handler, by type (on the class: bound methods kept on each
# instance would make every stream's translator a reference cycle).
_HANDLERS: dict[str, Callable[[ChoiceStream, Any], list[Event]]] = {
    "message_start": ChoiceStream._message_start,
    "content_block_start": ChoiceStream._block_start,
    "content_block_delta": ChoiceStream._block_delta,
    "content_block_stop": ChoiceStream._block_stop,
    "message_delta": ChoiceStream._message_delta,
}


class ChoiceBuilder:
    """Folds the proto events of one choice into its ``Choice``."""

    def __init__(self, index: int = 0) -> None:
        self.choice = chat_pb.Choice(index=index)
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._arguments: dict[int, list[str]] = {}

    def add(self, event: Event) -> None:
        kind = event.WhichOneof("event")
        if kind == "finished":
            self.choice.finish_reason = event.finished.finish_reason
        elif kind == "delta":
            self._add_delta(event.delta)

    def _add_delta(self, delta: chat_pb.Delta) -> None:
        kind = delta.WhichOneof("content")
        if kind == "text":
            self._text.append(delta.text)
        elif kind == "reasoning":
            self._reasoning.append(delta.reasoning)
        elif kind == "tool_call":
            piece = delta.tool_call
            if piece.index not in self._arguments:
                self._arguments[piece.index] = []
                self.choice.tool_calls.add(id=piece.id, name=piece.name)
            self._arguments[piece.index].append(piece.arguments_json)

    def build(self) -> chat_pb.Choice:
        self.choice.content = "".join(self._text)
        self.choice.reasoning = "".join(self._reasoning)
        for index, call in enumerate(self.choice.tool_calls):
            call.arguments_json = "".join(self._arguments[index]) or "{}"
        if self.choice.finish_reason == chat_pb.FINISH_REASON_UNSPECIFIED:
            self.choice.finish_reason = chat_pb.FINISH_REASON_STOP
        return self.choice
