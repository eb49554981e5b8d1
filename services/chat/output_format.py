"""OpenAI ``response_format`` → Anthropic (pure).

``json_schema`` on a model with structured outputs (the model table's
``structured_outputs``) becomes ``output_config.format``. Everywhere else, and for
``json_object`` always (structured outputs want closed object schemas), the answer is
produced as the input of one forced tool whose input schema is the format; the chat
service returns that input as the message content with finish_reason ``stop``. A model
that refuses forced tool use (``forced_tool_use`` false) has no such path: json_schema
always goes through ``output_config.format`` and json_object is a 400.
"""

from __future__ import annotations

import json
from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec
from drafter.rpc.errors import InvalidRequest

Format = chat_pb.ResponseFormat
JSON_OBJECT_TOOL = "json_object"
DEFAULT_SCHEMA_TOOL = "json_response"
JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": True}
FORMAT_TOOL_DESCRIPTION = (
    "Give your complete answer as this tool's input; it is returned to the user as JSON."
)


def format_tool_name(req: chat_pb.ChatRequest, model: ModelSpec) -> str | None:
    """The forced tool that carries the answer, when ``req``'s format needs one on ``model``."""
    kind = req.response_format.type
    if kind == Format.TYPE_JSON_OBJECT:
        return JSON_OBJECT_TOOL
    if kind == Format.TYPE_JSON_SCHEMA and not model.structured_outputs:
        return req.response_format.name or DEFAULT_SCHEMA_TOOL
    return None


def apply_response_format(
    params: dict[str, Any], req: chat_pb.ChatRequest, model: ModelSpec
) -> None:
    """Adds what ``req.response_format`` asks for to the ``messages.create`` arguments;
    a format that cannot be honoured together with the rest of the request is a 400."""
    kind = req.response_format.type
    if kind not in (Format.TYPE_JSON_OBJECT, Format.TYPE_JSON_SCHEMA):
        return
    schema = JSON_OBJECT_SCHEMA if kind == Format.TYPE_JSON_OBJECT else _schema(req.response_format)
    tool = format_tool_name(req, model)
    if tool is not None and not model.forced_tool_use:
        raise InvalidRequest(
            f"response_format {_NAMES[kind]} is answered through a forced tool call, which "
            f"`{model.id}` does not take; use json_schema with a closed object schema.",
            metadata={"param": "response_format"},
        )
    if tool is None:
        params.setdefault("output_config", {})["format"] = {"type": "json_schema", "schema": schema}
        return
    why = _why_no_forced_tool(params, model)
    if why:
        raise InvalidRequest(
            f"response_format {_NAMES[kind]} on `{model.id}` is answered through a forced "
            f"tool call, which cannot be combined with {why}.",
            metadata={"param": "response_format"},
        )
    if schema.get("type") != "object":
        raise InvalidRequest(
            f"response_format.json_schema.schema must describe an object on `{model.id}`.",
            metadata={"param": "response_format.json_schema.schema"},
        )
    params["tools"] = [
        {"name": tool, "description": FORMAT_TOOL_DESCRIPTION, "input_schema": schema}
    ]
    params["tool_choice"] = {"type": "tool", "name": tool}


_NAMES = {Format.TYPE_JSON_OBJECT: "json_object", Format.TYPE_JSON_SCHEMA: "json_schema"}


def _why_no_forced_tool(params: dict[str, Any], model: ModelSpec) -> str:
    if "thinking" in params:
        return "thinking (the upstream forbids forced tool use while thinking)"
    if "tools" in params:
        return "tools of your own" + (
            "" if model.structured_outputs else "; use a model with structured outputs"
        )
    return ""


def _schema(fmt: chat_pb.ResponseFormat) -> dict[str, Any]:
    param = "response_format.json_schema.schema"
    try:
        schema = json.loads(fmt.schema_json or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"{param} is not valid JSON: {exc}", metadata={"param": param}
        ) from exc
    if not isinstance(schema, dict) or not schema:
        raise InvalidRequest(f"{param} must be a non-empty JSON object", metadata={"param": param})
    return schema
