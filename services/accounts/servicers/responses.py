"""ResponsesServicer: the stored responses of the Responses API, per user. Every call
authenticates its credential as the usage API does (``Admission.caller``; an OAuth client
token needs the chat scope, as creating a response does). Reading and deleting count as
one API call each, like the usage API; storing (part of the request that created the
response) and the lookup of a ``previous_response_id`` (part of the request that continues
it) do not."""

from __future__ import annotations

import logging

from grpc import aio

from drafter.accounts.v1 import responses_service_pb2 as responses_pb
from drafter.accounts.v1 import responses_service_pb2_grpc as responses_grpc
from drafter.common.v1 import errors_pb2
from drafter.limits import RESPONSE_STORE_MAX_BYTES
from drafter.rpc.errors import InvalidRequest, NotFound
from drafter.services.accounts import convert
from drafter.services.accounts.admission.authorize import Admission
from drafter.services.accounts.admission.credentials import Principal
from drafter.services.accounts.oauth.rules import require_scope
from drafter.services.accounts.responses.store import ResponseStore, StoredResponse
from drafter.services.accounts.vocab import UsageKind

log = logging.getLogger("drafter.accounts.responses")

MAX_ID_CHARS = 128


def _id(value: str, param: str, *, required: bool = True) -> str:
    if required and not value:
        raise InvalidRequest(f"{param} is required.", metadata={"param": param})
    if len(value) > MAX_ID_CHARS:
        raise InvalidRequest(f"{param} is too long.", metadata={"param": param})
    return value


def _text(value: bytes, param: str) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise InvalidRequest(f"{param} is not UTF-8.", metadata={"param": param}) from None


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"Response with id '{response_id}' not found.")


class ResponsesServicer(responses_grpc.ResponsesServiceServicer):
    def __init__(self, *, admission: Admission, store: ResponseStore) -> None:
        self._admission = admission
        self._store = store

    async def _caller(self, credential: str) -> Principal:
        principal, _plan = await self._admission.caller(credential)
        require_scope(principal.scopes, UsageKind.CHAT)
        return principal

    async def StoreResponse(
        self, request: responses_pb.StoreResponseRequest, context: aio.ServicerContext
    ) -> responses_pb.StoreResponseResponse:
        response_id = _id(request.response_id, "response_id")
        size = request.ByteSize()
        if size > RESPONSE_STORE_MAX_BYTES:
            log.warning(
                "response %s not stored: %d bytes, over the %d-byte limit",
                response_id,
                size,
                RESPONSE_STORE_MAX_BYTES,
            )
            raise InvalidRequest(
                f"The response is {size} bytes; at most {RESPONSE_STORE_MAX_BYTES} are stored.",
                reason=errors_pb2.ERROR_REASON_PAYLOAD_TOO_LARGE,
                metadata={"param": "response_json"},
            )
        principal = await self._caller(request.credential)
        response = StoredResponse(
            id=response_id,
            previous_response_id=_id(
                request.previous_response_id, "previous_response_id", required=False
            ),
            response_json=_text(request.response_json, "response_json"),
            input_items_json=_text(request.input_items_json, "input_items_json") or "[]",
            conversation_json=_text(request.conversation_json, "conversation_json") or "[]",
            instructions=request.instructions,
        )
        if not response.response_json:
            raise InvalidRequest("response_json is required.", metadata={"param": "response_json"})
        expires_at = await self._store.put(principal.user_id, response)
        return responses_pb.StoreResponseResponse(expires_at=convert.timestamp(expires_at))

    async def GetResponse(
        self, request: responses_pb.GetResponseRequest, context: aio.ServicerContext
    ) -> responses_pb.GetResponseResponse:
        response_id = _id(request.response_id, "response_id")
        principal = await self._caller(request.credential)
        if not request.continuation:
            self._admission.record_api_call(principal)
        found = await self._store.get(principal.user_id, response_id)
        if found is None:
            raise _not_found(response_id)
        return responses_pb.GetResponseResponse(
            response_json=found.response_json.encode(),
            input_items_json=found.input_items_json.encode(),
            conversation_json=found.conversation_json.encode(),
            previous_response_id=found.previous_response_id,
            created_at=convert.timestamp(found.created_at),
            instructions=found.instructions,
        )

    async def DeleteResponse(
        self, request: responses_pb.DeleteResponseRequest, context: aio.ServicerContext
    ) -> responses_pb.DeleteResponseResponse:
        response_id = _id(request.response_id, "response_id")
        principal = await self._caller(request.credential)
        self._admission.record_api_call(principal)
        if not await self._store.delete(principal.user_id, response_id):
            raise _not_found(response_id)
        return responses_pb.DeleteResponseResponse()
