"""Server interceptors: the one place where exceptions become gRPC statuses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from drafter.rpc.errors import STATUS_DETAILS_KEY, DrafterError

log = logging.getLogger("drafter.rpc")

REQUEST_ID_KEY = "x-request-id"


def _request_id(context: aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_KEY:
            return str(value)
    return "-"


async def _abort(context: aio.ServicerContext, method: str, exc: Exception) -> None:
    if isinstance(exc, DrafterError):
        status = exc.to_status_proto()
        await context.abort(
            exc.code,
            exc.message,
            trailing_metadata=((STATUS_DETAILS_KEY, status.SerializeToString()),),
        )
    log.error(
        "unexpected error in %s (request %s): %s",
        method,
        _request_id(context),
        exc,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


class ErrorInterceptor(aio.ServerInterceptor):
    """Turns :class:`DrafterError` into a rich status and anything unexpected into a bare
    ``INTERNAL`` (logged with its traceback here, never sent to the caller)."""

    def __init__(self) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None:
            return cached
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        wrapped = wrap_handler(method, handler)
        self._wrapped[method] = wrapped
        return wrapped


def wrap_handler(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """``handler`` with every exception it raises turned into a status (``_abort``); used
    by the server's interceptor and by in-process calls (``drafter.rpc.local``)."""
    if handler.unary_unary is not None:
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: aio.ServicerContext) -> Any:
            try:
                return await inner(request, context)
            except aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, method, exc)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_stream = handler.unary_stream

        async def unary_stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async for item in inner_stream(request, context):
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, method, exc)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )
    return handler
