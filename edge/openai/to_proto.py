"""OpenAI chat request (validated) → ``drafter.chat.v1.ChatRequest``. Pure functions."""

from __future__ import annotations

import orjson

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.errors import invalid_request
from drafter.edge.openai import protocol as p

_ROLES = {
    "system": chat_pb.ROLE_SYSTEM,
    "developer": chat_pb.ROLE_DEVELOPER,
    "user": chat_pb.ROLE_USER,
    "assistant": chat_pb.ROLE_ASSISTANT,
    "tool": chat_pb.ROLE_TOOL,
}
_THINKING: dict[str | None, chat_pb.ThinkingLevel] = {
    None: chat_pb.THINKING_LEVEL_OFF,
    "medium": chat_pb.THINKING_LEVEL_MEDIUM,
    "high": chat_pb.THINKING_LEVEL_HIGH,
    "max": chat_pb.THINKING_LEVEL_MAX,
}
_TOOL_CHOICE = {
    "auto": chat_pb.ToolChoice.MODE_AUTO,
    "none": chat_pb.ToolChoice.MODE_NONE,
    "required": chat_pb.ToolChoice.MODE_REQUIRED,
}
_FORMAT = {
    "text": chat_pb.ResponseFormat.TYPE_TEXT,
    "json_object": chat_pb.ResponseFormat.TYPE_JSON_OBJECT,
    "json_schema": chat_pb.ResponseFormat.TYPE_JSON_SCHEMA,
}


def content_parts_from_openai(content: str | list | None) -> list[chat_pb.ContentPart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [chat_pb.ContentPart(text=content)]
    parts = []
    for part in content:
        if isinstance(part, p.TextPart):
            parts.append(chat_pb.ContentPart(text=part.text))
        else:
            image = chat_pb.ImagePart(url=part.image_url.url, detail=part.image_url.detail)
            parts.append(chat_pb.ContentPart(image=image))
    return parts


def message_from_openai(message: p.Message) -> chat_pb.Message:
    out = chat_pb.Message(
        role=_ROLES[message.role], content=content_parts_from_openai(message.content)
    )
    if isinstance(message, p.AssistantMessage) and message.tool_calls:
        out.tool_calls.extend(
            chat_pb.ToolCall(id=c.id, name=c.function.name, arguments_json=c.function.arguments)
            for c in message.tool_calls
        )
    if isinstance(message, p.ToolMessage):
        out.tool_call_id = message.tool_call_id
    name = getattr(message, "name", None)
    if name:
        out.name = name
    return out


def tool_choice_from_openai(choice: str | p.NamedToolChoice | None) -> chat_pb.ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        return chat_pb.ToolChoice(mode=_TOOL_CHOICE[choice])
    return chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_NAMED, name=choice.function.name)


def response_format_from_openai(fmt: p.ResponseFormat | None) -> chat_pb.ResponseFormat | None:
    if fmt is None:
        return None
    out = chat_pb.ResponseFormat(type=_FORMAT[fmt.type])
    if fmt.type == "json_schema":
        if fmt.json_schema is None:
            raise invalid_request(
                "Missing required parameter: 'response_format.json_schema'.",
                "response_format.json_schema",
            )
        out.name = fmt.json_schema.name
        out.schema_json = orjson.dumps(fmt.json_schema.schema_).decode()
        out.strict = bool(fmt.json_schema.strict)
    return out


def chat_request_from_openai(body: p.ChatCompletionRequest) -> chat_pb.ChatRequest:
    """The proto request the chat service takes for an OpenAI chat completion body."""
    request = chat_pb.ChatRequest(
        model=body.model,
        messages=[message_from_openai(m) for m in body.messages],
        max_tokens=body.answer_max_tokens,
        stop=[body.stop] if isinstance(body.stop, str) else (body.stop or []),
        thinking=_THINKING[body.thinking],
        reasoning_effort=body.reasoning_effort or "",
        include_reasoning=body.include_reasoning,
        user=body.user or "",
        n=body.n,
    )
    if body.temperature is not None:
        request.temperature = body.temperature
    if body.top_p is not None:
        request.top_p = body.top_p
    if body.top_k is not None:
        request.top_k = body.top_k
    if body.parallel_tool_calls is not None:
        request.parallel_tool_calls = body.parallel_tool_calls
    for tool in body.tools or ():
        request.tools.append(
            chat_pb.Tool(
                name=tool.function.name,
                description=tool.function.description,
                parameters_json=orjson.dumps(tool.function.parameters).decode(),
            )
        )
    tool_choice = tool_choice_from_openai(body.tool_choice)
    if tool_choice is not None:
        request.tool_choice.CopyFrom(tool_choice)
    response_format = response_format_from_openai(body.response_format)
    if response_format is not None:
        request.response_format.CopyFrom(response_format)
    return request
