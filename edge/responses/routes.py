"""``POST /responses``: OpenAI's Responses API on Drafter's keys, plans and quotas
(mounted under ``/api/v1`` and ``/v1``), JSON or SSE.

The edge validates the body (``protocol``), puts the stored conversation of
``previous_response_id`` in front of the input (``store.load_conversation``; its
instructions are not carried over, as OpenAI's are not), opens the reasoning items'
sealed thinking (``sealing``), and sends it to the chat service's ``Respond``, which
translates it. One request is one unit of the chat quota, authorized and settled as a
chat completion is (``call``). With ``store`` (OpenAI's default) the response is stored
once it completed, with the conversation to continue from: the previous one, the input
items and the output items, reasoning sealed as a client gets it.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.api.accounting import (
    CLIENT_CLOSED_REQUEST,
    ClientDisconnected,
    Settlement,
    unless_disconnected,
)
from drafter.edge.api.bodies import REQUEST_ID_HEADER, new_id, parse_json_body, request_id
from drafter.edge.deps import ApiContext, ApiDep
from drafter.edge.responses.call import Finished, ResponseCall
from drafter.edge.responses.protocol import ResponsesRequest, refusal
from drafter.edge.responses.sealing import Sealer
from drafter.edge.responses.store import load_conversation, store_response
from drafter.edge.server.event_stream import EventStreamResponse

router = APIRouter(tags=["responses"])

_CHAT = accounts_pb.USAGE_KIND_CHAT
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

Item = dict[str, Any]


@router.post("/responses")
async def create_response(request: Request, api: ApiDep) -> Response:
    body = parse_json_body(await request.body(), ResponsesRequest)
    refused = refusal(body)
    if refused is not None:
        raise refused
    rid = request_id(request.headers.get(REQUEST_ID_HEADER))
    seal: Sealer = request.app.state.sealer  # the edge's secret key's (``edge/app.py``)
    input_items = body.input_items()
    previous: list[Item] = []
    if body.previous_response_id:
        stored = await load_conversation(api, body.previous_response_id)
        previous = stored.conversation
    upstream_input = [
        *seal.open_items(previous, "previous_response_id"),
        *seal.open_items(input_items),
    ]
    payload = body.model_dump(exclude_none=True)
    payload["input"] = upstream_input
    response_id = new_id("resp_")
    reservation = await api.accounting.authorize(api.credential, _CHAT, body.model)
    rpc = api.services.chat.Respond(
        chat_pb.RespondRequest(
            reservation_id=reservation.id,
            model=reservation.model,
            body=orjson.dumps(payload),
            response_id=response_id,
            created_at=int(time.time()),
        ),
        timeout=api.settings.upstream_timeout_s,
        metadata=((REQUEST_ID_HEADER, rid),),
    )
    call = ResponseCall(
        rpc,
        api.accounting,
        Settlement(reservation),
        seal,
        include_encrypted=body.encrypted_reasoning,
    )

    finished = _storing(api, body, previous, input_items)
    # A failure before the first event keeps its HTTP status; a stream whose upstream is
    # slow to start starts after keepalive_s, with keep-alives. A client that goes away
    # meanwhile cancels it (and the reservation is refunded).
    wait_s = api.settings.keepalive_s if body.stream else None
    try:
        first = await unless_disconnected(request, call.first_answer(wait_s))
        if not body.stream:
            response = await unless_disconnected(request, call.whole(first))
            await finished(response, call.output)
            return Response(
                orjson.dumps(response),
                media_type="application/json",
                headers={REQUEST_ID_HEADER: rid},
            )
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it
    return EventStreamResponse(
        call.frames(first, finished),
        keepalive_s=api.settings.keepalive_s,
        on_writer=call.write_to,
        media_type="text/event-stream",
        headers={**_SSE_HEADERS, REQUEST_ID_HEADER: rid},
    )


def _storing(
    api: ApiContext, body: ResponsesRequest, previous: list[Item], input_items: list[Item]
) -> Finished:
    """What is done with the response once it completed: stored with the conversation to
    continue from, when the request asks for it (``store``); else nothing, and nothing of
    the request is held for it while the response streams (a Codex prompt is often
    100 KB, and a stream may last minutes)."""
    if not body.stored:
        return _store_nothing
    previous_response_id = body.previous_response_id or ""
    instructions = body.instructions or ""

    async def finished(response: dict[str, Any], output: list[Item]) -> None:
        await store_response(
            api,
            response=response,
            input_items=input_items,
            conversation=[*previous, *input_items, *output],
            previous_response_id=previous_response_id,
            instructions=instructions,
        )

    return finished


async def _store_nothing(response: dict[str, Any], output: list[Item]) -> None:
    """The response of a request with ``store`` false: kept nowhere."""
