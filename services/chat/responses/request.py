"""A Responses request body → a chat request, as chat completions build one (pure).

The items of ``input`` become the messages of a ``ChatRequest`` and the parameters its
fields, so the rules of chat completions (``to_anthropic``, ``model_rules``,
``output_format``, ``documents``) apply unchanged. The conversion table:

- ``instructions``: a system message, first;
- message of role ``system``/``developer``: a system message (joins the system prompt);
- message of role ``user``/``assistant``: a message; ``input_text``/``output_text`` parts
  text, ``input_image`` an image, ``input_file`` a document, ``refusal`` text;
- ``function_call``/``custom_tool_call``: a tool call of the assistant turn (a custom
  tool's input as ``{"input": text}``, ``tools``);
- ``function_call_output``/``custom_tool_call_output``: a tool result;
- ``reasoning`` with ``encrypted_content``: the signed thinking blocks in front of the
  assistant turn that follows (kept by its calls' ids, as chat completions keep them);
- ``web_search_call``: left out (the upstream ran the search; what it found is in the
  assistant's text that follows, and a search cannot be replayed without the upstream's
  encrypted results);
- ``max_output_tokens``: ``max_tokens``; ``temperature``, ``top_p``,
  ``parallel_tool_calls``: the same;
- ``reasoning.effort``: ``reasoning_effort``; ``reasoning.summary``: the thinking text is
  returned (as the reasoning item's summary);
- ``text.format``: ``response_format`` (json_schema, json_object);
- ``safety_identifier``, else ``user``: ``user`` (``metadata.user_id`` upstream).

A reasoning item reaches this service opened by the edge: its ``encrypted_content`` is
the JSON list of the upstream's thinking blocks, sent back unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.responses.tools import (
    CUSTOM_INPUT,
    ToolTable,
    tool_choice_from_request,
    tools_from_request,
)

Item = dict[str, Any]
Block = dict[str, Any]

ROLES: dict[str, chat_pb.Role] = {
    "system": chat_pb.ROLE_SYSTEM,
    "developer": chat_pb.ROLE_DEVELOPER,
    "user": chat_pb.ROLE_USER,
    "assistant": chat_pb.ROLE_ASSISTANT,
}
TEXT_PARTS = frozenset({"input_text", "output_text", "text", "summary_text"})
THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
FORMATS: dict[str, chat_pb.ResponseFormat.Type] = {
    "text": chat_pb.ResponseFormat.TYPE_TEXT,
    "json_object": chat_pb.ResponseFormat.TYPE_JSON_OBJECT,
    "json_schema": chat_pb.ResponseFormat.TYPE_JSON_SCHEMA,
}


@dataclass
class Translation:
    """The chat request for a Responses body, and what the answer's translation needs."""

    chat: chat_pb.ChatRequest
    tools: ToolTable
    # Signed thinking blocks by the id of a tool call they came before.
    kept_thinking: dict[str, list[Block]] = field(default_factory=dict)
    # Tool calls of assistant turns whose thinking did not come back.
    unthought_calls: list[str] = field(default_factory=list)


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, metadata={"param": param})


def _text_part(text: str) -> chat_pb.ContentPart:
    return chat_pb.ContentPart(text=text)


def content_parts(content: Any, param: str) -> list[chat_pb.ContentPart]:
    """A message's (or a tool output's) content: a string, or a list of parts."""
    if isinstance(content, str):
        return [_text_part(content)]
    if not isinstance(content, list):
        raise _bad(f"{param} must be a string or a list of content parts.", param)
    return [_part(part, f"{param}[{i}]") for i, part in enumerate(content)]


def _part(part: Any, param: str) -> chat_pb.ContentPart:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in TEXT_PARTS:
        return _text_part(str(part.get("text") or ""))
    if kind == "refusal":
        return _text_part(str(part.get("refusal") or ""))
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise _bad(
                f"{param}: only image_url (an http(s) or base64 data: URL) is supported; "
                "file_id needs OpenAI's Files API.",
                f"{param}.image_url",
            )
        return chat_pb.ContentPart(
            image=chat_pb.ImagePart(url=url, detail=str(part.get("detail") or ""))
        )
    if kind == "input_file":
        data = part.get("file_data")
        if not isinstance(data, str) or not data:
            raise _bad(
                f"{param}: only file_data (a base64 data: URL) is supported; file_id and "
                "file_url are not.",
                f"{param}.file_data",
            )
        filename = str(part.get("filename") or "")
        return chat_pb.ContentPart(file=chat_pb.FilePart(file_data=data, filename=filename))
    raise _bad(f"{param}: content part type '{kind}' is not supported.", f"{param}.type")


def _output_parts(output: Any, param: str) -> list[chat_pb.ContentPart]:
    if isinstance(output, str):
        return [_text_part(output)] if output else []
    return content_parts(output, param)


def thinking_blocks(item: Item, param: str) -> list[Block]:
    """The signed thinking blocks a reasoning item carries (opened by the edge)."""
    opened = item.get("encrypted_content")
    if not opened:
        return []
    try:
        blocks = json.loads(opened)
    except (TypeError, json.JSONDecodeError):
        blocks = None
    if not isinstance(blocks, list) or not all(
        isinstance(b, dict) and b.get("type") in THINKING_BLOCKS for b in blocks
    ):
        raise _bad(f"{param}.encrypted_content is not a reasoning item of this server.", param)
    return blocks


class _Conversation:
    """Builds the messages; consecutive assistant items become one assistant turn, so
    its thinking comes before its text and calls."""

    def __init__(self, tools: ToolTable) -> None:
        self.messages: list[chat_pb.Message] = []
        self.kept: dict[str, list[Block]] = {}
        self.unthought: list[str] = []
        self._tools = tools
        self._thinking: list[Block] = []
        self._turn_thinking: list[Block] = []

    def _assistant(self) -> chat_pb.Message:
        if self.messages and self.messages[-1].role == chat_pb.ROLE_ASSISTANT:
            return self.messages[-1]
        self._turn_thinking, self._thinking = self._thinking, []
        message = chat_pb.Message(role=chat_pb.ROLE_ASSISTANT)
        self.messages.append(message)
        return message

    def add(self, item: Item, param: str) -> None:
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "message":
            role = ROLES.get(str(item.get("role")))
            if role is None:
                raise _bad(f"{param}.role must be one of {', '.join(ROLES)}.", f"{param}.role")
            parts = content_parts(item.get("content"), f"{param}.content")
            if role == chat_pb.ROLE_ASSISTANT:
                self._assistant().content.extend(parts)
            else:
                self.messages.append(chat_pb.Message(role=role, content=parts))
        elif kind == "reasoning":
            blocks = thinking_blocks(item, param)
            if self.messages and self.messages[-1].role == chat_pb.ROLE_ASSISTANT:
                self._turn_thinking.extend(blocks)  # thinking between calls of one turn
            else:
                self._thinking.extend(blocks)
        elif kind in ("function_call", "custom_tool_call"):
            self._call(item, kind, param)
        elif kind == "web_search_call":
            return
        elif kind in ("function_call_output", "custom_tool_call_output"):
            call_id = _call_id(item, param)
            parts = _output_parts(item.get("output"), f"{param}.output")
            self.messages.append(
                chat_pb.Message(role=chat_pb.ROLE_TOOL, tool_call_id=call_id, content=parts)
            )
        else:
            raise _bad(f"{param}: input item type '{kind}' is not supported.", f"{param}.type")

    def _call(self, item: Item, kind: str, param: str) -> None:
        call_id = _call_id(item, param)
        name = self._tools.upstream_name(
            str(item.get("name") or ""), str(item.get("namespace") or "")
        )
        if kind == "custom_tool_call":
            arguments = json.dumps({CUSTOM_INPUT: str(item.get("input") or "")})
        else:
            arguments = str(item.get("arguments") or "{}")
        self._assistant().tool_calls.add(id=call_id, name=name, arguments_json=arguments)
        if self._turn_thinking:
            self.kept[call_id] = self._turn_thinking
        else:
            self.unthought.append(call_id)


def _call_id(item: Item, param: str) -> str:
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise _bad(f"{param}.call_id is required.", f"{param}.call_id")
    return call_id


def input_items(body: dict[str, Any]) -> list[Item]:
    """``input`` as a list of items (a string is one user message)."""
    value = body.get("input")
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list):
        raise _bad("input must be a string or a list of items.", "input")
    return value


def _response_format(text: Any) -> chat_pb.ResponseFormat | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict):
        return None
    kind = FORMATS.get(str(fmt.get("type")))
    if kind is None:
        raise _bad(f"text.format.type '{fmt.get('type')}' is not supported.", "text.format.type")
    return chat_pb.ResponseFormat(
        type=kind,
        name=str(fmt.get("name") or ""),
        schema_json=json.dumps(fmt.get("schema") or {}) if "schema" in fmt else "",
        strict=fmt.get("strict") is True,
    )


def translate(body: dict[str, Any], model: str) -> Translation:
    """The chat request for a Responses ``body`` sent to ``model`` (a model table id)."""
    tools, table = tools_from_request(body)
    conversation = _Conversation(table)
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions.strip():
        conversation.messages.append(
            chat_pb.Message(role=chat_pb.ROLE_SYSTEM, content=[_text_part(instructions)])
        )
    for i, item in enumerate(input_items(body)):
        if not isinstance(item, dict):
            raise _bad(f"input[{i}] must be an object.", f"input[{i}]")
        conversation.add(item, f"input[{i}]")
    chat = chat_pb.ChatRequest(model=model, messages=conversation.messages)
    choice, tools = tool_choice_from_request(body, tools, table)
    chat.tools.extend(tools)
    if choice is not None and tools:
        chat.tool_choice.CopyFrom(choice)
    _sampling(body, chat)
    fmt = _response_format(body.get("text"))
    if fmt is not None:
        chat.response_format.CopyFrom(fmt)
    reasoning = body.get("reasoning") or {}
    if reasoning.get("effort"):
        chat.reasoning_effort = str(reasoning["effort"])
    chat.include_reasoning = bool(reasoning.get("summary") or reasoning.get("generate_summary"))
    user = body.get("safety_identifier") or body.get("user")
    if isinstance(user, str):
        chat.user = user
    return Translation(chat, table, conversation.kept, conversation.unthought)


def _sampling(body: dict[str, Any], chat: chat_pb.ChatRequest) -> None:
    if body.get("max_output_tokens") is not None:
        chat.max_tokens = int(body["max_output_tokens"])
    if body.get("temperature") is not None:
        chat.temperature = float(body["temperature"])
    if body.get("top_p") is not None:
        chat.top_p = float(body["top_p"])
    if body.get("parallel_tool_calls") is not None:
        chat.parallel_tool_calls = bool(body["parallel_tool_calls"])
