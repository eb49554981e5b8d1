"""Server interceptors: the one place where exceptions become gRPC statuses.

A service may name an :data:`ExceptionTranslator`: what it knows about an exception that is
not a :class:`DrafterError` (the accounts service turns a lost database into
``DATABASE_UNAVAILABLE``, ``services/accounts/db/outage.py``). What it translates is
answered as that error, without a traceback; the rest is a bug, logged with its traceback.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from drafter.rpc.errors import STATUS_DETAILS_KEY, DrafterError

log = logging.getLogger("drafter.rpc")

REQUEST_ID_KEY = "x-request-id"

# What a service knows of an exception that is not a DrafterError: the error to answer
# instead, or None (a bug).
ExceptionTranslator = Callable[[Exception], DrafterError | None]


def _request_id(context: aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_KEY:
            return str(value)
    return "-"


async def _abort(
    context: aio.ServicerContext,
    method: str,
    exc: Exception,
    translate: ExceptionTranslator | None = None,
) -> None:
    if not isinstance(exc, DrafterError) and translate is not None:
        exc = translate(exc) or exc
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
    ``INTERNAL`` (logged with its traceback here, never sent to the caller), unless the
    service's ``translate`` knows it."""

    def __init__(self, translate: ExceptionTranslator | None = None) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}
        self._translate = translate

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
        wrapped = wrap_handler(method, handler, self._translate)
        self._wrapped[method] = wrapped
        return wrapped


def wrap_handler(
    method: str, handler: grpc.RpcMethodHandler, translate: ExceptionTranslator | None = None
) -> grpc.RpcMethodHandler:
    """``handler`` with every exception it raises turned into a status (``_abort``); used
    by the server's interceptor and by in-process calls (``drafter.rpc.local``).

    A server-streaming handler is either an async generator (it yields its messages) or a
    coroutine that writes them with ``context.write`` (grpc's own health ``Watch``); the
    wrapper is of the same kind, as grpc tells them apart by the function."""
    if handler.unary_unary is not None:
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: aio.ServicerContext) -> Any:
            try:
                return await inner(request, context)
            except aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, method, exc, translate)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_stream = handler.unary_stream
        if not inspect.isasyncgenfunction(inner_stream):

            async def unary_stream_writer(request: Any, context: aio.ServicerContext) -> None:
                try:
                    await inner_stream(request, context)
                except aio.AbortError:
                    raise
                except Exception as exc:
                    await _abort(context, method, exc, translate)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream_writer, handler.request_deserializer, handler.response_serializer
            )

        async def unary_stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async for item in inner_stream(request, context):
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, method, exc, translate)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )
    return handler
