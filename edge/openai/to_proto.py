"""OpenAI chat request (validated) → ``drafter.chat.v1.ChatRequest``. Pure functions.

Parameters with no upstream equivalent stop here (the README's parameter table); values
that cannot be honoured are a 400 naming the parameter (:func:`refuse_unsupported`). The
deprecated ``functions`` API travels as tools: ``functions`` as tools, ``function_call``
as tool_choice, an assistant ``function_call`` as a tool call and a ``function`` message as
its result.
"""

from __future__ import annotations

from typing import Any

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
    "function": chat_pb.ROLE_TOOL,
}
_NO_LOGPROBS = "log probabilities are not available from Drafter's models"
_NO_AUDIO = "audio output is not supported by Drafter's models; use modalities ['text']"
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


def content_parts_from_openai(
    content: str | list[Any] | None, where: str = "content"
) -> list[chat_pb.ContentPart]:
    """A message's content as proto parts; ``where`` is the content's parameter path
    (``messages.2.content``), named in a 400."""
    if content is None:
        return []
    if isinstance(content, str):
        return [chat_pb.ContentPart(text=content)]
    parts = []
    for index, part in enumerate(content):
        if isinstance(part, p.TextPart):
            out = chat_pb.ContentPart(text=part.text)
        elif isinstance(part, p.RefusalPart):
            out = chat_pb.ContentPart(text=part.refusal)
        elif isinstance(part, p.FilePart):
            out = chat_pb.ContentPart(file=file_part_from_openai(part.file, f"{where}.{index}"))
        else:
            image = chat_pb.ImagePart(url=part.image_url.url, detail=part.image_url.detail)
            out = chat_pb.ContentPart(image=image)
        cache = getattr(part, "cache_control", None)
        if cache is not None:
            out.cache_control.CopyFrom(cache_control_from_openai(cache))
        parts.append(out)
    return parts


def file_part_from_openai(file: p.FileData, where: str) -> chat_pb.FilePart:
    """An inline file; a ``file_id`` is a 400 (Drafter has no Files API to resolve it)."""
    if file.file_id is not None and file.file_data is None:
        raise invalid_request(
            f"{where}.file.file_id: Drafter has no Files API, so file ids cannot be "
            "resolved; send the file inline as file_data, a base64 data: URL "
            "(data:application/pdf;base64,...).",
            f"{where}.file.file_id",
        )
    if not file.file_data:
        raise invalid_request(
            f"Missing required parameter: '{where}.file.file_data'.", f"{where}.file.file_data"
        )
    return chat_pb.FilePart(file_data=file.file_data, filename=file.filename or "")


def cache_control_from_openai(cache: p.CacheControl) -> chat_pb.CacheControl:
    return chat_pb.CacheControl(ttl=cache.ttl or "")


def refuse_unsupported(body: p.ChatCompletionRequest) -> None:
    """A 400 naming the parameter for a value no upstream model can honour."""
    if body.logprobs:
        raise invalid_request(f"logprobs: {_NO_LOGPROBS}; send logprobs false.", "logprobs")
    if body.top_logprobs:
        raise invalid_request(f"top_logprobs: {_NO_LOGPROBS}.", "top_logprobs")
    if body.modalities and "audio" in body.modalities:
        raise invalid_request(f"modalities: {_NO_AUDIO}.", "modalities")
    if body.audio is not None:
        raise invalid_request(f"audio: {_NO_AUDIO}.", "audio")


def message_from_openai(
    message: p.Message, function_call_id: str = "", where: str = "content"
) -> chat_pb.Message:
    """One message; ``function_call_id`` is the id given to the latest assistant
    ``function_call`` (the deprecated functions API carries none); ``where`` is its
    content's parameter path."""
    out = chat_pb.Message(
        role=_ROLES[message.role], content=content_parts_from_openai(message.content, where)
    )
    if isinstance(message, p.AssistantMessage):
        if not message.content and message.refusal:
            out.content.append(chat_pb.ContentPart(text=message.refusal))
        calls = list(message.tool_calls or ())
        out.tool_calls.extend(
            chat_pb.ToolCall(id=c.id, name=c.function.name, arguments_json=c.function.arguments)
            for c in calls
        )
        if message.function_call is not None and not calls:
            call = message.function_call
            out.tool_calls.append(
                chat_pb.ToolCall(id=function_call_id, name=call.name, arguments_json=call.arguments)
            )
    if isinstance(message, p.ToolMessage):
        out.tool_call_id = message.tool_call_id
    if isinstance(message, p.FunctionMessage):
        out.tool_call_id = function_call_id
        return out
    name = getattr(message, "name", None)
    if name:
        out.name = name
    return out


def messages_from_openai(messages: list[p.Message]) -> list[chat_pb.Message]:
    """The conversation; each assistant ``function_call`` gets an id its ``function``
    result message answers."""
    out = []
    call_id = ""
    for position, message in enumerate(messages):
        if isinstance(message, p.AssistantMessage) and message.function_call is not None:
            call_id = f"call_function_{position}"
        out.append(message_from_openai(message, call_id, f"messages.{position}.content"))
    return out


def tools_from_openai(body: p.ChatCompletionRequest) -> list[chat_pb.Tool]:
    """``tools``, and the deprecated ``functions``, as proto tools."""
    tools: list[tuple[p.FunctionDefinition, p.CacheControl | None]] = [
        (t.function, t.cache_control or t.function.cache_control) for t in body.tools or ()
    ]
    tools += [(f, f.cache_control) for f in body.functions or ()]
    out = []
    for function, cache in tools:
        tool = chat_pb.Tool(
            name=function.name,
            description=function.description,
            parameters_json=orjson.dumps(function.parameters).decode(),
            strict=bool(function.strict),
        )
        if cache is not None:
            tool.cache_control.CopyFrom(cache_control_from_openai(cache))
        out.append(tool)
    return out


def tool_choice_from_openai(
    choice: str | p.NamedToolChoice | p.FunctionCallChoice | None,
) -> chat_pb.ToolChoice | None:
    """``tool_choice`` (or the deprecated ``function_call``) as the proto's."""
    if choice is None:
        return None
    if isinstance(choice, str):
        return chat_pb.ToolChoice(mode=_TOOL_CHOICE[choice])
    name = choice.name if isinstance(choice, p.FunctionCallChoice) else choice.function.name
    return chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_NAMED, name=name)


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
    refuse_unsupported(body)
    request = chat_pb.ChatRequest(
        model=body.model,
        messages=messages_from_openai(body.messages),
        max_tokens=body.answer_max_tokens,
        stop=[body.stop] if isinstance(body.stop, str) else (body.stop or []),
        thinking=_THINKING[body.thinking],
        reasoning_effort=body.reasoning_effort or "",
        include_reasoning=body.include_reasoning,
        user=body.end_user,
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
    if body.uses_functions:
        request.parallel_tool_calls = False  # the functions API has one call at most
    request.tools.extend(tools_from_openai(body))
    tool_choice = tool_choice_from_openai(body.tool_choice or body.function_call)
    if tool_choice is not None:
        request.tool_choice.CopyFrom(tool_choice)
    response_format = response_format_from_openai(body.response_format)
    if response_format is not None:
        request.response_format.CopyFrom(response_format)
    return request
