"""Anthropic's web search server tool in the fake upstream: checking the tool as the live
API checks it, and the blocks of a scripted search.

Source: Anthropic's web search tool docs
(docs.claude.com/en/docs/agents-and-tools/tool-use/web-search-tool). The tool is
``{"type": "web_search_20250305", "name": "web_search"}`` with optional ``max_uses``,
``allowed_domains`` or ``blocked_domains`` (not both) and ``user_location`` (``type``
``approximate``; ``city``, ``region``, ``country``, ``timezone``). A search the API runs
comes back as a ``server_tool_use`` block (id ``srvtoolu_...``, ``input: {"query"}``),
then a ``web_search_tool_result`` block whose ``content`` is the list of
``web_search_result`` (``url``, ``title``, ``encrypted_content``, ``page_age``), streamed
whole in its ``content_block_start``; ``usage.server_tool_use.web_search_requests`` counts
the searches. The model cannot search without the tool: a scripted search for a request
without it is not run.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WEB_SEARCH_TYPE = "web_search_20250305"
WEB_SEARCH_NAME = "web_search"
LOCATION_FIELDS = frozenset({"type", "city", "region", "country", "timezone"})


@dataclass(frozen=True)
class WebSearch:
    """A search the fake answers with: the query and its results' ``(url, title)``."""

    query: str
    results: Sequence[tuple[str, str]] = ()


def web_search_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    for tool in body.get("tools") or ():
        if isinstance(tool, dict) and tool.get("type") == WEB_SEARCH_TYPE:
            return tool
    return None


def web_search_tool_error(tool: dict[str, Any], where: str) -> str | None:
    """The live API's refusal of a web search tool, or None when it is valid."""
    if tool.get("name") != WEB_SEARCH_NAME:
        return f"{where}.{WEB_SEARCH_TYPE}.name: Input should be '{WEB_SEARCH_NAME}'"
    if "allowed_domains" in tool and "blocked_domains" in tool:
        # The fake's wording of the documented rule.
        return "Cannot specify both allowed_domains and blocked_domains"
    max_uses = tool.get("max_uses")
    if max_uses is not None and (not isinstance(max_uses, int) or max_uses < 1):
        return f"{where}.{WEB_SEARCH_TYPE}.max_uses: Input should be greater than 0"
    location = tool.get("user_location")
    if location is not None:
        if not isinstance(location, dict) or location.get("type") != "approximate":
            return f"{where}.{WEB_SEARCH_TYPE}.user_location.type: Input should be 'approximate'"
        extra = sorted(set(location) - LOCATION_FIELDS)
        if extra:
            return (
                f"{where}.{WEB_SEARCH_TYPE}.user_location.{extra[0]}: "
                "Extra inputs are not permitted"
            )
    return None


def search_blocks(searches: Sequence[WebSearch], msg_id: str) -> list[dict[str, Any]]:
    """The ``server_tool_use`` and ``web_search_tool_result`` blocks of the searches."""
    blocks: list[dict[str, Any]] = []
    for i, search in enumerate(searches):
        tool_id = f"srvtoolu_fake_{msg_id}_{i}"
        blocks.append(
            {
                "type": "server_tool_use",
                "id": tool_id,
                "name": WEB_SEARCH_NAME,
                "input": {"query": search.query},
            }
        )
        results = [
            {
                "type": "web_search_result",
                "url": url,
                "title": title,
                "encrypted_content": base64.b64encode(f"page {url}".encode()).decode(),
                "page_age": None,
            }
            for url, title in search.results
        ]
        blocks.append(
            {"type": "web_search_tool_result", "tool_use_id": tool_id, "content": results}
        )
    return blocks
