"""The web search mapping without a stack: OpenAI's ``web_search`` tool as Anthropic's
server tool (``tools``), and the fake upstream refusing that tool as the live API does."""

from __future__ import annotations

from typing import Any

import pytest

from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.responses.tools import add_server_tools, tools_from_request
from tests.fakes.anthropic_models import MODELS
from tests.fakes.anthropic_server import Invalid, validate

HEADERS = {"anthropic-version": "2023-06-01"}


def upstream_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    params: dict[str, Any] = {}
    _, table = tools_from_request(body)
    add_server_tools(params, table)
    return list(params.get("tools", []))


def test_any_number_of_web_search_tools_is_one_server_tool() -> None:
    tools = upstream_tools(
        {"tools": [{"type": "web_search_preview"}, {"type": "web_search_2025_08_26"}]}
    )

    assert tools == [{"type": "web_search_20250305", "name": "web_search"}]


def test_only_openais_location_fields_are_kept() -> None:
    location = {"type": "approximate", "city": "Oslo", "country": "NO", "zip": 1}

    (tool,) = upstream_tools({"tools": [{"type": "web_search", "user_location": location}]})

    assert tool["user_location"] == {"type": "approximate", "city": "Oslo", "country": "NO"}


def test_allowed_domains_that_are_not_a_list_of_strings_are_a_400() -> None:
    with pytest.raises(InvalidRequest) as info:
        tools_from_request({"tools": [{"type": "web_search", "filters": {"allowed_domains": 3}}]})

    assert info.value.metadata["param"] == "tools[0].filters.allowed_domains"


def _body(tool: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [tool],
    }


def test_the_fake_accepts_the_web_search_tool_as_the_live_api_does() -> None:
    tool = {
        "type": "web_search_20250305",
        "name": "web_search",
        "max_uses": 3,
        "allowed_domains": ["example.com"],
        "user_location": {"type": "approximate", "city": "Paris", "timezone": "Europe/Paris"},
    }

    assert validate(HEADERS, _body(tool), MODELS).id == "claude-haiku-4-5-20251001"


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "search"},
        {"allowed_domains": ["a.com"], "blocked_domains": ["b.com"]},
        {"max_uses": 0},
        {"user_location": {"type": "exact"}},
    ],
)
def test_the_fake_refuses_a_web_search_tool_the_live_api_refuses(fields: dict[str, Any]) -> None:
    tool = {"type": "web_search_20250305", "name": "web_search", **fields}

    with pytest.raises(Invalid):
        validate(HEADERS, _body(tool), MODELS)
