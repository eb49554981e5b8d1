"""``drafter.chat.v1`` responses and stream events → OpenAI JSON objects. Pure functions."""

from __future__ import annotations

from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.common.v1 import usage_pb2 as usage_pb

FINISH_REASONS: dict[int, str | None] = {
    chat_pb.FINISH_REASON_UNSPECIFIED: None,
    chat_pb.FINISH_REASON_STOP: "stop",
    chat_pb.FINISH_REASON_LENGTH: "length",
    chat_pb.FINISH_REASON_TOOL_CALLS: "tool_calls",
    chat_pb.FINISH_REASON_CONTENT_FILTER: "content_filter",
}


def usage_from_proto(usage: usage_pb.TokenUsage) -> dict[str, Any]:
    """OpenAI usage: prompt tokens include cache reads and writes; completion tokens include
    thinking, broken out in ``completion_tokens_details``."""
    prompt = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def tool_call_from_proto(call: chat_pb.ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def choice_from_proto(choice: chat_pb.Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content or None}
    if choice.tool_calls:
        message["tool_calls"] = [tool_call_from_proto(c) for c in choice.tool_calls]
    if choice.reasoning:
        message["reasoning_content"] = choice.reasoning
    if message["content"] is None and not choice.tool_calls:
        message["content"] = ""
    return {
        "index": choice.index,
        "message": message,
        "logprobs": None,
        "finish_reason": FINISH_REASONS[choice.finish_reason],
    }


def completion_from_proto(
    response: chat_pb.CompleteResponse, *, completion_id: str, created: int, model: str
) -> dict[str, Any]:
    """A ``chat.completion`` object; ``model`` is the name the caller asked for."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice_from_proto(c) for c in response.choices],
        "usage": usage_from_proto(response.usage),
        "system_fingerprint": None,
    }


def delta_from_proto(delta: chat_pb.Delta) -> dict[str, Any]:
    """The ``delta`` of a chunk for one streamed piece."""
    kind = delta.WhichOneof("content")
    if kind == "text":
        return {"content": delta.text}
    if kind == "reasoning":
        return {"reasoning_content": delta.reasoning}
    call = delta.tool_call
    entry: dict[str, Any] = {"index": call.index, "function": {"arguments": call.arguments_json}}
    if call.id:
        entry["id"] = call.id
        entry["type"] = "function"
        entry["function"]["name"] = call.name
    return {"tool_calls": [entry]}
