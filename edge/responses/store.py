"""Stored responses, as the edge sees them: the one place that calls the accounts
service's ResponsesService. ``POST /responses`` stores what it answered
(:func:`store_response`) and continues from a ``previous_response_id``
(:func:`load_conversation`); ``stored_routes`` reads and deletes them
(:func:`get_stored`, :func:`delete_stored`).

A response of another user is answered as one that never existed (404), as OpenAI does.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import grpc
import orjson

from drafter.accounts.v1 import responses_service_pb2 as responses_pb
from drafter.edge.deps import ApiContext
from drafter.edge.errors import APIError
from drafter.limits import RESPONSE_STORE_MAX_BYTES
from drafter.rpc.errors import error_from_rpc

log = logging.getLogger("drafter.edge")


@dataclass(frozen=True)
class StoredConversation:
    response_id: str
    # The items to continue from: the previous conversation, the input, the output.
    conversation: list[dict[str, Any]]
    instructions: str


@dataclass(frozen=True)
class StoredResponse:
    """One stored response of the caller: the response object as the client got it, the
    request's own input items, and the conversation to continue from."""

    response_id: str
    response: dict[str, Any]
    input_items: list[dict[str, Any]]
    conversation: list[dict[str, Any]]
    previous_response_id: str
    instructions: str


def response_not_found(response_id: str) -> APIError:
    """OpenAI's answer to an id that is not the caller's stored response."""
    return APIError(404, f"Response with id '{response_id}' not found.", "invalid_request_error")


def previous_response_not_found(response_id: str) -> APIError:
    return APIError(
        404,
        f"Previous response with id '{response_id}' not found.",
        "invalid_request_error",
        "previous_response_id",
        code="previous_response_not_found",
    )


async def _get(api: ApiContext, response_id: str, *, continuation: bool) -> StoredResponse | None:
    request = responses_pb.GetResponseRequest(
        credential=api.credential, response_id=response_id, continuation=continuation
    )
    try:
        reply = await api.services.responses.GetResponse(
            request, timeout=api.settings.accounts_timeout_s
        )
    except grpc.RpcError as exc:
        if error_from_rpc(exc).code == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return StoredResponse(
        response_id=response_id,
        response=orjson.loads(reply.response_json),
        input_items=orjson.loads(reply.input_items_json or b"[]"),
        conversation=orjson.loads(reply.conversation_json or b"[]"),
        previous_response_id=reply.previous_response_id,
        instructions=reply.instructions,
    )


async def get_stored(api: ApiContext, response_id: str) -> StoredResponse:
    """The caller's stored response ``response_id`` (counted as one API call), else 404."""
    stored = await _get(api, response_id, continuation=False)
    if stored is None:
        raise response_not_found(response_id)
    return stored


async def delete_stored(api: ApiContext, response_id: str) -> None:
    """Deletes the caller's stored response ``response_id`` (one API call), else 404."""
    request = responses_pb.DeleteResponseRequest(credential=api.credential, response_id=response_id)
    try:
        await api.services.responses.DeleteResponse(
            request, timeout=api.settings.accounts_timeout_s
        )
    except grpc.RpcError as exc:
        if error_from_rpc(exc).code == grpc.StatusCode.NOT_FOUND:
            raise response_not_found(response_id) from None
        raise


async def load_conversation(api: ApiContext, previous_response_id: str) -> StoredConversation:
    """The conversation of the caller's stored response ``previous_response_id``, else
    OpenAI's 404 ``previous_response_not_found``. Part of the new request, not an API call
    of its own."""
    stored = await _get(api, previous_response_id, continuation=True)
    if stored is None:
        raise previous_response_not_found(previous_response_id)
    return StoredConversation(
        response_id=stored.response_id,
        conversation=stored.conversation,
        instructions=stored.instructions,
    )


def listed_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` as OpenAI lists input items: each with an ``id`` (given here when the
    client sent none, so that it stays the same on every read and pages can start after
    it) and a message's text content as a list of parts."""
    listed = []
    for item in items:
        item = dict(item)
        if "type" not in item and "role" in item:
            item["type"] = "message"
        if item.get("type") == "message" and isinstance(item.get("content"), str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            item["content"] = [{"type": part, "text": item["content"]}]
        if not item.get("id"):
            prefix = "msg" if item.get("type") == "message" else "item"
            item = {"id": f"{prefix}_{secrets.token_hex(24)}", **item}
        listed.append(item)
    return listed


async def store_response(
    api: ApiContext,
    *,
    response: dict[str, Any],
    input_items: list[dict[str, Any]],
    conversation: list[dict[str, Any]],
    previous_response_id: str,
    instructions: str,
) -> None:
    """Stores ``response`` (its ``id`` names it) for later retrieval and continuation,
    with ``input_items`` as the input items list shows them (:func:`listed_items`).
    A failure is logged and never fails the client's request, which is answered already;
    so is a response over RESPONSE_STORE_MAX_BYTES, which is not stored."""
    response_id = str(response.get("id", ""))
    request = responses_pb.StoreResponseRequest(
        credential=api.credential,
        response_id=response_id,
        previous_response_id=previous_response_id,
        response_json=orjson.dumps(response),
        input_items_json=orjson.dumps(listed_items(input_items)),
        conversation_json=orjson.dumps(conversation),
        instructions=instructions,
    )
    size = request.ByteSize()
    if size > RESPONSE_STORE_MAX_BYTES:
        log.warning(
            "response %s not stored: %d bytes, over the %d-byte limit",
            response_id,
            size,
            RESPONSE_STORE_MAX_BYTES,
        )
        return
    try:
        await api.services.responses.StoreResponse(request, timeout=api.settings.accounts_timeout_s)
    except grpc.RpcError as exc:
        err = error_from_rpc(exc)
        log.warning("response %s not stored: %s %s", response_id, err.code.name, err.message)
