"""Anthropic's stream, read as server-sent events straight off the response.

The SDK still builds the request, authenticates, retries and turns error statuses into
its exceptions; only the event parsing is ours. Its typed events cost about 0.4 ms of CPU
per 20-event stream; here each event is one ``json.loads`` into :class:`Fields`, which
reads like the SDK's objects (``event.delta.text``; an absent field reads as None), so
``from_anthropic`` works on either. An ``error`` event raises the same
``anthropic.APIStatusError`` the SDK raises, so the one error table applies unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
from anthropic._response import AsyncAPIResponse


class Fields(dict[str, Any]):
    """A JSON object whose keys read as attributes."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def _event(name: str | None, data: str, response: AsyncAPIResponse[Any]) -> Fields:
    if name == "error":
        try:
            body: Any = json.loads(data)
        except ValueError:
            body = data
        raise anthropic.APIStatusError(f"{body}", response=response.http_response, body=body)
    return json.loads(data, object_hook=Fields)  # type: ignore[no-any-return]


async def upstream_events(response: AsyncAPIResponse[Any]) -> AsyncIterator[Fields]:
    """The events of an SSE response, in order (comments and empty events skipped)."""
    name: str | None = None
    data: list[str] = []
    async for line in response.iter_lines():
        if not line:
            if data:
                yield _event(name, "\n".join(data), response)
            name, data = None, []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    if data:
        yield _event(name, "\n".join(data), response)
