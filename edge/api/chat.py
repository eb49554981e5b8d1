"""``POST /chat/completions``: OpenAI chat completions, JSON or SSE (``edge/openai/``
translates; :class:`~edge.openai.chat_stream.ChatStream` drives a stream)."""

from __future__ import annotations

import time

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
from drafter.edge.openai import sse
from drafter.edge.openai.chat_stream import ChatStream
from drafter.edge.openai.from_proto import completion_from_proto
from drafter.edge.openai.legacy_functions import FunctionCallChunkWriter, function_call_choice
from drafter.edge.openai.protocol import ChatCompletionRequest
from drafter.edge.openai.to_proto import chat_request_from_openai
from drafter.edge.server.event_stream import EventStreamResponse

router = APIRouter(tags=["chat"])

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_CHAT = accounts_pb.USAGE_KIND_CHAT


@router.post("/chat/completions")
async def create_chat_completion(request: Request, api: ApiDep) -> Response:
    body = parse_json_body(await request.body(), ChatCompletionRequest)
    chat_request = chat_request_from_openai(body)
    rid = request_id(request.headers.get(REQUEST_ID_HEADER))
    completion_id, created = new_id("chatcmpl-"), int(time.time())
    if body.stream:
        chunks = FunctionCallChunkWriter if body.uses_functions else sse.ChunkWriter
        writer = chunks(completion_id, created, body.model)
        return await _stream(request, api, body, chat_request, rid, writer)
    try:
        async with api.accounting.reserved(api.credential, _CHAT, body.model, body.n) as settlement:
            # Authorize resolved the name the caller used: the chat service gets the id.
            chat_request.model = settlement.reservation.model
            call = api.services.chat.Complete(
                chat_pb.CompleteRequest(
                    request=chat_request, reservation_id=settlement.reservation.id
                ),
                timeout=api.settings.upstream_timeout_s,
                metadata=((REQUEST_ID_HEADER, rid),),
            )
            response = await unless_disconnected(request, call)
            settlement.units_used = len(response.choices)
            settlement.usage = response.usage
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it
    payload = completion_from_proto(
        response, completion_id=completion_id, created=created, model=body.model
    )
    if body.uses_functions:
        payload["choices"] = [function_call_choice(c) for c in payload["choices"]]
    headers = {REQUEST_ID_HEADER: rid}
    return Response(orjson.dumps(payload), media_type="application/json", headers=headers)


async def _stream(
    request: Request,
    api: ApiContext,
    body: ChatCompletionRequest,
    chat_request: chat_pb.ChatRequest,
    rid: str,
    writer: sse.ChunkWriter,
) -> Response:
    reservation = await api.accounting.authorize(api.credential, _CHAT, body.model, body.n)
    chat_request.model = reservation.model  # the id Authorize resolved the name to
    rpc = api.services.chat.StreamComplete(
        chat_pb.StreamCompleteRequest(request=chat_request, reservation_id=reservation.id),
        timeout=api.settings.upstream_timeout_s,
        metadata=((REQUEST_ID_HEADER, rid),),
    )
    stream = ChatStream(rpc, api.accounting, Settlement(reservation))
    # An early failure still gets its HTTP status; a model that is slow to start (it
    # thinks first) gets its response started, and keep-alives, after keepalive_s.
    # A client that goes away meanwhile cancels it (and the reservation is refunded).
    try:
        first = await unless_disconnected(request, stream.first_event(api.settings.keepalive_s))
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return EventStreamResponse(
        stream.frames(first, writer, include_usage),
        keepalive_s=api.settings.keepalive_s,
        on_writer=stream.write_to,
        media_type="text/event-stream",
        headers={**_SSE_HEADERS, REQUEST_ID_HEADER: rid},
    )
