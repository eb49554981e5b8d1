"""``POST /chat/completions``: OpenAI chat completions, JSON or SSE."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import orjson
from fastapi import APIRouter, Request
from grpc import aio
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from edge.accounting import Accounting, Reservation, outcome_of_failure, token_usage_from_chat
from edge.deps import ApiCallDep
from edge.errors import api_error_from_rpc
from edge.event_stream import KEEPALIVE, EventStreamResponse
from edge.openai import sse
from edge.openai.from_proto import FINISH_REASONS, completion_from_proto, delta_from_proto
from edge.openai.from_proto import usage_from_proto as openai_usage
from edge.openai.protocol import ChatCompletionRequest
from edge.openai.to_proto import chat_request_from_openai
from edge.requests import REQUEST_ID_HEADER, new_id, parse_json_body, request_id

router = APIRouter(tags=["chat"])

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post("/chat/completions")
async def create_chat_completion(request: Request, call: ApiCallDep) -> Response:
    body = parse_json_body(await request.body(), ChatCompletionRequest)
    chat_request = chat_request_from_openai(body)
    services, settings, accounting = call.services, call.settings, call.accounting
    reservation = await accounting.authorize(
        call.credential, accounts_pb.USAGE_KIND_CHAT, body.model, body.n
    )
    rid = request_id(request.headers.get(REQUEST_ID_HEADER))
    metadata = ((REQUEST_ID_HEADER, rid),)
    completion_id, created = new_id("chatcmpl-"), int(time.time())
    headers = {REQUEST_ID_HEADER: rid}
    if not body.stream:
        try:
            response = await services.chat.Complete(
                chat_pb.CompleteRequest(request=chat_request),
                timeout=settings.upstream_timeout_s,
                metadata=metadata,
            )
        except grpc.RpcError as exc:
            await accounting.settle(reservation, outcome_of_failure(exc.code()))
            raise api_error_from_rpc(exc) from None
        except asyncio.CancelledError:
            accounting.settle_soon(reservation, accounts_pb.OUTCOME_CANCELLED)
            raise
        await accounting.settle(
            reservation,
            accounts_pb.OUTCOME_SUCCEEDED,
            units_used=len(response.choices),
            usage=token_usage_from_chat(response.usage),
        )
        payload = completion_from_proto(
            response, completion_id=completion_id, created=created, model=body.model
        )
        return Response(orjson.dumps(payload), media_type="application/json", headers=headers)

    call = services.chat.StreamComplete(
        chat_pb.StreamCompleteRequest(request=chat_request),
        timeout=settings.upstream_timeout_s,
        metadata=metadata,
    )
    stream = ChatStream(call, accounting, reservation)
    # An early failure still gets its HTTP status; a model that is slow to start (it
    # thinks first) gets its response started, and keep-alives, after keepalive_s.
    first = await stream.first_event(settings.keepalive_s)
    writer = sse.ChunkWriter(completion_id, created, body.model)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return EventStreamResponse(
        stream.frames(first, writer, include_usage),
        keepalive_s=settings.keepalive_s,
        media_type="text/event-stream",
        headers={**_SSE_HEADERS, **headers},
    )


class ChatStream:
    """One streamed completion: reads gRPC events, writes SSE frames, settles at the end."""

    def __init__(
        self, call: aio.UnaryStreamCall, accounting: Accounting, reservation: Reservation
    ) -> None:
        self._call = call
        self._accounting = accounting
        self._reservation = reservation
        self._pending: asyncio.Future[object] | None = None
        self._units = 0
        self._usage: chat_pb.Usage | None = None

    async def first_event(self, wait_s: float) -> object | None:
        """The first event; None when none came within ``wait_s`` (it is still awaited)."""
        pending = self._pending = asyncio.ensure_future(self._call.read())
        try:
            done, _ = await asyncio.wait((pending,), timeout=wait_s)
            if not done:
                return None
            self._pending = None
            return pending.result()
        except grpc.RpcError as exc:
            await self._settle(outcome_of_failure(exc.code()))
            raise api_error_from_rpc(exc) from None
        except asyncio.CancelledError:
            pending.cancel()
            self._call.cancel()
            await self._settle(accounts_pb.OUTCOME_CANCELLED)
            raise

    async def _read(self) -> object:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            return await pending
        return await self._call.read()

    async def frames(
        self, first: object | None, writer: sse.ChunkWriter, include_usage: bool
    ) -> AsyncIterator[bytes]:
        """The SSE frames; a ``first`` of None (silent so far) starts with a keep-alive."""
        outcome: int = accounts_pb.OUTCOME_CANCELLED
        try:
            if first is None:
                yield KEEPALIVE
                first = await self._read()
            event = first
            while event is not aio.EOF:
                frame = self._frame(event, writer, include_usage)  # type: ignore[arg-type]
                if frame:
                    yield frame
                event = await self._read()
            outcome = accounts_pb.OUTCOME_SUCCEEDED
            yield sse.DONE
        except grpc.RpcError as exc:
            outcome = outcome_of_failure(exc.code())
            yield sse.error_frame(api_error_from_rpc(exc).body())
        finally:
            if self._pending is not None:
                self._pending.cancel()
            if outcome == accounts_pb.OUTCOME_CANCELLED:
                self._call.cancel()
            if outcome != accounts_pb.OUTCOME_SUCCEEDED and self._units:
                outcome = accounts_pb.OUTCOME_SUCCEEDED  # output was delivered: it counts
            await self._settle(outcome)

    def _frame(
        self, event: chat_pb.StreamCompleteResponse, writer: sse.ChunkWriter, include_usage: bool
    ) -> bytes | None:
        kind = event.WhichOneof("event")
        if kind == "delta":
            return writer.delta(event.delta.choice_index, delta_from_proto(event.delta))
        if kind == "finished":
            self._units += 1
            finished = event.finished
            return writer.finish(finished.choice_index, FINISH_REASONS[finished.finish_reason])
        if kind == "usage":
            self._usage = event.usage
            return writer.usage(openai_usage(event.usage)) if include_usage else None
        return None

    async def _settle(self, outcome: int) -> None:
        await self._accounting.settle(
            self._reservation,
            outcome,
            units_used=self._units,
            usage=token_usage_from_chat(self._usage),
        )
