"""What the stored-responses tests send: a StoreResponse of a small response."""

from __future__ import annotations

from typing import Any

import orjson

from drafter.accounts.v1 import responses_service_pb2 as responses_pb
from tests.support.accounts import Account


def response_object(response_id: str, text: str = "Hello!") -> dict[str, Any]:
    return {
        "id": response_id,
        "object": "response",
        "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [{"text": text}]}],
    }


def store_request(
    account: Account,
    response_id: str,
    *,
    text: str = "Hello!",
    previous: str = "",
    instructions: str = "Be brief.",
) -> responses_pb.StoreResponseRequest:
    user = {"id": "msg_1", "type": "message", "role": "user", "content": "Hi"}
    return responses_pb.StoreResponseRequest(
        credential=account.key,
        response_id=response_id,
        previous_response_id=previous,
        response_json=orjson.dumps(response_object(response_id, text)),
        input_items_json=orjson.dumps([user]),
        conversation_json=orjson.dumps([user, {"type": "message", "content": text}]),
        instructions=instructions,
    )


def get_request(
    account: Account, response_id: str, *, continuation: bool = False
) -> responses_pb.GetResponseRequest:
    return responses_pb.GetResponseRequest(
        credential=account.key, response_id=response_id, continuation=continuation
    )


def delete_request(account: Account, response_id: str) -> responses_pb.DeleteResponseRequest:
    return responses_pb.DeleteResponseRequest(credential=account.key, response_id=response_id)
