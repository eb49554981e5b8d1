"""Reading API request bodies into protocol models, with OpenAI-shaped 400s; the request's
id (``x-request-id``, passed on to the services) and OpenAI-style object ids."""

from __future__ import annotations

import secrets
from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from drafter.edge.errors import api_error_from_validation, invalid_request
from drafter.request_scope import MAX_REQUEST_ID_CHARS, note_request_id
from drafter.rpc.interceptors import REQUEST_ID_KEY

M = TypeVar("M", bound=BaseModel)

# The same name in HTTP headers and in gRPC metadata.
REQUEST_ID_HEADER = REQUEST_ID_KEY


def parse_json_body(raw: bytes, model: type[M]) -> M:
    """Parses and validates a JSON body; the 400 names the first field at fault."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_request("We could not parse the JSON body of your request.") from None
    if not isinstance(data, dict):
        raise invalid_request("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise api_error_from_validation(list(exc.errors())) from None


def new_id(prefix: str) -> str:
    """An OpenAI-style object id (``chatcmpl-...``)."""
    return prefix + secrets.token_hex(12)


def request_id(header_value: str | None) -> str:
    if header_value and len(header_value) <= MAX_REQUEST_ID_CHARS:
        return note_request_id(header_value)
    return note_request_id(new_id("req_"))
