"""What the edge reads of a Messages API request: the model (Authorize needs it) and
whether it streams; the body itself goes on as it came."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.errors import invalid_request

# The client's headers that go on to the chat service (which keeps the ones the upstream
# must see: ``anthropic-version``, ``anthropic-beta``); credentials never do.
FORWARDED_PREFIX = "anthropic-"


@dataclass(frozen=True, slots=True)
class MessagesAsk:
    """The model the client named, and whether it asked for a stream."""

    model: str
    stream: bool


def read_ask(raw: bytes) -> MessagesAsk:
    """The model and stream flag of a Messages body; 400 in Anthropic's words when the
    body is not a JSON object naming a model."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.")
    model = body.get("model")
    if "model" not in body:
        raise invalid_request("model: Field required", "model")
    if not isinstance(model, str) or not model:
        raise invalid_request("model: Input should be a valid string", "model")
    return MessagesAsk(model, body.get("stream") is True)


def forwarded_headers(headers: Mapping[str, str]) -> list[chat_pb.HttpHeader]:
    """The client's ``anthropic-*`` headers (version, betas), for the chat service."""
    return [
        chat_pb.HttpHeader(name=name, value=value)
        for name, value in headers.items()
        if name.startswith(FORWARDED_PREFIX)
    ]
