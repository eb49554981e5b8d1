"""``POST /messages`` and ``POST /messages/count_tokens``: Anthropic's Messages API on
Drafter's keys, plans and quotas (mounted under ``/api/v1`` and ``/v1``); and the base
URL probe (``HEAD /``, ``GET /``) clients such as Claude Code send first.

A Messages request is one unit of the chat quota, authorized and settled as a chat
completion is (``edge/anthropic/passthrough.py``); token counting is one API call, counted
but never against a quota. Errors answer in Anthropic's shape (``edge/errors.py`` picks
it by path).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.anthropic.passthrough import PING, MessagesCall
from drafter.edge.anthropic.request import forwarded_headers, read_ask
from drafter.edge.api.accounting import (
    CLIENT_CLOSED_REQUEST,
    ClientDisconnected,
    Settlement,
    unless_disconnected,
)
from drafter.edge.api.bodies import REQUEST_ID_HEADER, request_id
from drafter.edge.deps import ApiDep
from drafter.edge.errors import ANTHROPIC_REQUEST_ID_HEADER
from drafter.edge.server.event_stream import EventStreamResponse

router = APIRouter(tags=["anthropic"])
probe = APIRouter(tags=["anthropic"])

_CHAT = accounts_pb.USAGE_KIND_CHAT
_API_CALL = accounts_pb.USAGE_KIND_API_CALL
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _request_id(request: Request) -> str:
    """The request's id, kept on it so an error answer names the same one."""
    rid = request_id(request.headers.get(REQUEST_ID_HEADER))
    request.state.request_id = rid
    return rid


def _answer_headers(head: chat_pb.UpstreamHead, rid: str) -> dict[str, str]:
    headers = {h.name: h.value for h in head.headers if h.name != "content-type"}
    headers.setdefault(ANTHROPIC_REQUEST_ID_HEADER, rid)
    return {**headers, REQUEST_ID_HEADER: rid}


def _content_type(head: chat_pb.UpstreamHead, default: str) -> str:
    return next((h.value for h in head.headers if h.name == "content-type"), default)


@router.post("/messages")
async def create_message(request: Request, api: ApiDep) -> Response:
    raw = await request.body()
    ask = read_ask(raw)
    rid = _request_id(request)
    reservation = await api.accounting.authorize(api.credential, _CHAT, ask.model)
    rpc = api.services.chat.Messages(
        chat_pb.MessagesRequest(
            reservation_id=reservation.id,
            model=reservation.model,
            body=raw,
            headers=forwarded_headers(request.headers),
            query=request.url.query,
        ),
        timeout=api.settings.upstream_timeout_s,
        metadata=((REQUEST_ID_HEADER, rid),),
    )
    call = MessagesCall(rpc, api.accounting, Settlement(reservation), rid)
    # A stream whose upstream is slow to answer starts after keepalive_s, with pings; a
    # client that goes away meanwhile cancels it (and the reservation is refunded).
    wait_s = api.settings.keepalive_s if ask.stream else None
    try:
        head = await unless_disconnected(request, call.first_head(wait_s))
        if head is not None and (head.status >= 400 or not ask.stream):
            body = await unless_disconnected(request, call.whole_body())
            return Response(
                body,
                status_code=head.status,
                headers=_answer_headers(head, rid),
                media_type=_content_type(head, "application/json"),
            )
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # nobody reads it
    headers = _answer_headers(head, rid) if head is not None else {REQUEST_ID_HEADER: rid}
    return EventStreamResponse(
        call.frames(),
        keepalive_s=api.settings.keepalive_s,
        keepalive=PING,
        on_writer=call.write_to,
        media_type="text/event-stream",
        headers={**_SSE_HEADERS, **headers},
    )


@router.post("/messages/count_tokens")
async def count_tokens(request: Request, api: ApiDep) -> Response:
    raw = await request.body()
    ask = read_ask(raw)
    rid = _request_id(request)
    try:
        async with api.accounting.reserved(api.credential, _API_CALL, ask.model) as settlement:
            settlement.units_used = 1  # one API call, whatever the upstream answers
            call = api.services.chat.CountTokens(
                chat_pb.CountTokensRequest(
                    model=settlement.reservation.model,
                    body=raw,
                    headers=forwarded_headers(request.headers),
                    query=request.url.query,
                ),
                timeout=api.settings.upstream_timeout_s,
                metadata=((REQUEST_ID_HEADER, rid),),
            )
            counted = await unless_disconnected(request, call)
    except ClientDisconnected:
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    return Response(
        counted.body,
        status_code=counted.head.status,
        headers=_answer_headers(counted.head, rid),
        media_type=_content_type(counted.head, "application/json"),
    )


@probe.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def base_url_probe() -> Response:
    """Clients probe the base URL before their first request (Claude Code sends
    ``HEAD /``): a quick 200."""
    return PlainTextResponse("Drafter\n")
