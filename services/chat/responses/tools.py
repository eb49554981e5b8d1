"""Responses ``tools`` and ``tool_choice`` → the chat request's tools (pure); the one
table of what each tool type becomes.

- ``function``: an Anthropic tool with the function's JSON Schema; ``strict: true`` is
  strict tool use where the model has structured outputs (as on chat completions).
- ``custom`` (free-form text input, as Codex's ``apply_patch``): an Anthropic tool whose
  input is one string property ``input`` (``CUSTOM_INPUT``); its grammar, when it has
  one, is given to the model in the description. The call comes back as a
  ``custom_tool_call`` item whose ``input`` is that string.
- ``namespace`` (a group of function and custom tools, as Codex sends): each inner tool
  becomes ``<namespace>__<name>`` upstream (Anthropic's tool names take no dots) and its
  calls come back with ``name`` and ``namespace`` apart.
- ``web_search`` and ``web_search_preview`` (and their dated versions): Anthropic's web
  search server tool (``web_search_20250305``, named ``web_search``; its
  ``allowed_domains`` from ``filters.allowed_domains``, its ``user_location`` from
  OpenAI's), run by the upstream; its searches come back as ``web_search_call`` items
  (``output``). ``tool_choice: "none"``, or ``allowed_tools`` without it, leaves it out.
- hosted tools Drafter cannot run and a client may send by default
  (``code_interpreter``, ``local_shell``): left out of the upstream request.
- hosted tools that cannot be served at all (``file_search`` against OpenAI vector
  stores, ``computer_use_preview``, ``image_generation``, ``mcp``, ...): a 400 naming them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.rpc.errors import InvalidRequest

CUSTOM_INPUT = "input"
NAMESPACE_SEPARATOR = "__"
WEB_SEARCH_TOOLS = frozenset(
    {"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11"}
)
DROPPED_TOOLS = frozenset({"code_interpreter", "local_shell"})
# Anthropic's web search server tool, as its tool-use docs name it
# (docs.claude.com/en/docs/agents-and-tools/tool-use/web-search-tool: "type":
# "web_search_20250305", "name": "web_search", optional max_uses, allowed_domains or
# blocked_domains, user_location {"type": "approximate", city, region, country, timezone}).
WEB_SEARCH_TYPE = "web_search_20250305"
WEB_SEARCH_NAME = "web_search"
LOCATION_FIELDS = ("city", "region", "country", "timezone")
SOURCES_INCLUDE = "web_search_call.action.sources"
TOOL_CHOICE_MODES: dict[str, chat_pb.ToolChoice.Mode] = {
    "auto": chat_pb.ToolChoice.MODE_AUTO,
    "none": chat_pb.ToolChoice.MODE_NONE,
    "required": chat_pb.ToolChoice.MODE_REQUIRED,
}


@dataclass(frozen=True, slots=True)
class ToolName:
    """What an upstream tool name stands for in the Responses API."""

    name: str
    kind: str  # "function" or "custom"
    namespace: str = ""


@dataclass
class ToolTable:
    """The upstream tool names of one request, the server tools the upstream runs for it
    and the hosted tools left out."""

    names: dict[str, ToolName] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    server_tools: list[dict[str, Any]] = field(default_factory=list)
    # ``include`` asked for a web search's sources (``web_search_call.action.sources``).
    search_sources: bool = False

    def upstream_name(self, name: str, namespace: str = "") -> str:
        return f"{namespace}{NAMESPACE_SEPARATOR}{name}" if namespace else name

    def lookup(self, upstream: str) -> ToolName:
        return self.names.get(upstream) or ToolName(upstream, "function")


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, metadata={"param": param})


def custom_input_schema(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {CUSTOM_INPUT: {"type": "string", "description": description}},
        "required": [CUSTOM_INPUT],
        "additionalProperties": False,
    }


def _custom_description(tool: dict[str, Any]) -> str:
    description = str(tool.get("description") or "")
    fmt = tool.get("format") or {}
    if isinstance(fmt, dict) and fmt.get("type") == "grammar":
        description += (
            f"\n\nThe input is free-form text that must follow this {fmt.get('syntax', '')} "
            f"grammar:\n{fmt.get('definition', '')}"
        )
    return description.strip()


def _tool(
    tool: dict[str, Any], param: str, table: ToolTable, namespace: str = ""
) -> chat_pb.Tool | None:
    kind = tool.get("type")
    name = tool.get("name")
    if kind in ("function", "custom") and (not isinstance(name, str) or not name):
        raise _bad(f"{param}.name is required.", f"{param}.name")
    name = str(name)
    if kind == "function":
        upstream = table.upstream_name(name, namespace)
        table.names[upstream] = ToolName(name, "function", namespace)
        return chat_pb.Tool(
            name=upstream,
            description=str(tool.get("description") or ""),
            parameters_json=json.dumps(tool.get("parameters") or {"type": "object"}),
            strict=tool.get("strict") is True,
        )
    if kind == "custom":
        upstream = table.upstream_name(name, namespace)
        table.names[upstream] = ToolName(name, "custom", namespace)
        description = _custom_description(tool)
        return chat_pb.Tool(
            name=upstream,
            description=description,
            parameters_json=json.dumps(custom_input_schema("The tool's free-form input.")),
        )
    if kind in WEB_SEARCH_TOOLS and not namespace:
        if not table.server_tools:  # one upstream web search tool for any number of them
            table.server_tools.append(web_search_tool(tool, param))
        return None
    if kind in DROPPED_TOOLS:
        table.dropped.append(str(kind))
        return None
    raise _bad(
        f"{param}: tool type '{kind}' cannot be served by this server; use function or "
        "custom tools.",
        f"{param}.type",
    )


def web_search_tool(tool: dict[str, Any], param: str) -> dict[str, Any]:
    """Anthropic's web search server tool for an OpenAI ``web_search`` tool."""
    server: dict[str, Any] = {"type": WEB_SEARCH_TYPE, "name": WEB_SEARCH_NAME}
    filters = tool.get("filters")
    domains = filters.get("allowed_domains") if isinstance(filters, dict) else None
    if domains:
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise _bad(
                f"{param}.filters.allowed_domains must be a list of domains.",
                f"{param}.filters.allowed_domains",
            )
        server["allowed_domains"] = domains
    location = tool.get("user_location")
    if isinstance(location, dict):
        fields = {k: location[k] for k in LOCATION_FIELDS if isinstance(location.get(k), str)}
        if fields:
            server["user_location"] = {"type": "approximate", **fields}
    return server


def add_server_tools(params: dict[str, Any], table: ToolTable) -> None:
    """The upstream request's tools, with the server tools the upstream runs after the
    request's own."""
    if not table.server_tools:
        return
    if WEB_SEARCH_NAME in table.names:
        raise _bad(
            f"A function tool named '{WEB_SEARCH_NAME}' cannot be sent beside the hosted "
            "web_search tool.",
            "tools",
        )
    params["tools"] = [*params.get("tools", ()), *table.server_tools]


def tools_from_request(body: dict[str, Any]) -> tuple[list[chat_pb.Tool], ToolTable]:
    """The chat request's tools for the body's ``tools``, and their names' table."""
    table = ToolTable(search_sources=SOURCES_INCLUDE in (body.get("include") or ()))
    tools: list[chat_pb.Tool] = []
    for i, tool in enumerate(body.get("tools") or ()):
        param = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise _bad(f"{param} must be an object.", param)
        if tool.get("type") == "namespace":
            namespace = str(tool.get("name") or "")
            for j, inner in enumerate(tool.get("tools") or ()):
                made = _tool(inner, f"{param}.tools[{j}]", table, namespace)
                if made is not None:
                    tools.append(made)
            continue
        made = _tool(tool, param, table)
        if made is not None:
            tools.append(made)
    return tools, table


def tool_choice_from_request(
    body: dict[str, Any], tools: list[chat_pb.Tool], table: ToolTable
) -> tuple[chat_pb.ToolChoice | None, list[chat_pb.Tool]]:
    """The chat request's tool choice, and its tools (``allowed_tools`` narrows them)."""
    choice = body.get("tool_choice")
    if choice is None:
        return None, tools
    if isinstance(choice, str):
        if choice not in TOOL_CHOICE_MODES:
            raise _bad(
                f"tool_choice must be one of {', '.join(TOOL_CHOICE_MODES)}; got '{choice}'.",
                "tool_choice",
            )
        if choice == "none":
            table.server_tools.clear()
        return chat_pb.ToolChoice(mode=TOOL_CHOICE_MODES[choice]), tools
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind in ("function", "custom"):
        upstream = table.upstream_name(str(choice.get("name") or ""), "")
        if upstream not in table.names:
            raise _bad(
                f"tool_choice names the tool '{upstream}', which is not in tools.", "tool_choice"
            )
        return chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_NAMED, name=upstream), tools
    if kind == "allowed_tools":
        mode = str(choice.get("mode") or "auto")
        allowed = {
            table.upstream_name(str(t.get("name") or ""), str(t.get("namespace") or ""))
            for t in choice.get("tools") or ()
            if isinstance(t, dict)
        }
        kept = [tool for tool in tools if tool.name in allowed]
        if not any(
            isinstance(t, dict) and t.get("type") in WEB_SEARCH_TOOLS
            for t in choice.get("tools") or ()
        ):
            table.server_tools.clear()
        return chat_pb.ToolChoice(
            mode=TOOL_CHOICE_MODES.get(mode, chat_pb.ToolChoice.MODE_AUTO)
        ), kept
    if kind in DROPPED_TOOLS or kind in WEB_SEARCH_TOOLS:
        return None, tools  # a hosted tool is not forced; the model chooses freely
    raise _bad(f"tool_choice of type '{kind}' cannot be honoured.", "tool_choice")
