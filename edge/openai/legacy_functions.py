"""Answers to the deprecated functions API in its own shape.

A request that declared ``functions`` (not ``tools``) is answered as OpenAI answers it:
the call as ``message.function_call`` (``delta.function_call`` when streamed, its name in
the first piece) with ``finish_reason: "function_call"``, never ``tool_calls``, and one
call at most (the API has no parallel calls; ``to_proto`` asks the upstream for one).
"""

from __future__ import annotations

from typing import Any

from drafter.edge.openai.sse import ChunkWriter

_FINISH = {"tool_calls": "function_call"}


def function_call_choice(choice: dict[str, Any]) -> dict[str, Any]:
    """A chat.completion choice with its first tool call as the function call."""
    message = choice["message"]
    calls = message.pop("tool_calls", None)
    if calls:
        message["function_call"] = calls[0]["function"]
        message.setdefault("content", None)
    finish = choice["finish_reason"]
    return {**choice, "finish_reason": _FINISH.get(finish, finish)}


class FunctionCallChunkWriter(ChunkWriter):
    """A :class:`ChunkWriter` for the functions API: tool-call pieces become
    ``function_call`` pieces, only those of the first call."""

    def delta(self, index: int, delta: dict[str, Any]) -> bytes:
        calls = delta.get("tool_calls")
        if calls is not None:
            call = calls[0]
            if call["index"] != 0:
                return b""  # a second call: the functions API has none
            delta = {"function_call": call["function"]}
        return super().delta(index, delta)

    def finish(self, index: int, finish_reason: str | None) -> bytes:
        return super().finish(index, _FINISH.get(finish_reason or "", finish_reason))
