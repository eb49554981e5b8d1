"""Server interceptors: the one place where exceptions become gRPC statuses.

A service may name an :data:`ExceptionTranslator`: what it knows about an exception that is
not a :class:`DrafterError` (the accounts service turns a lost database into
``DATABASE_UNAVAILABLE``, ``services/accounts/db/outage.py``). What it translates is
answered as that error, without a traceback; the rest is a bug, logged with its traceback.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
from grpc import aio

from drafter import logs, request_scope, tracing
from drafter.rpc.errors import STATUS_DETAILS_KEY, DrafterError

log = logging.getLogger("drafter.rpc")

REQUEST_ID_KEY = "x-request-id"

# What a service knows of an exception that is not a DrafterError: the error to answer
# instead, or None (a bug).
ExceptionTranslator = Callable[[Exception], DrafterError | None]


def _request_id(context: aio.ServicerContext) -> str:
    return _metadata_value(context.invocation_metadata(), REQUEST_ID_KEY) or "-"


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
        wrapped = wrap_handler(method, handler, self._translate, remote=True)
        self._wrapped[method] = wrapped
        return wrapped


def wrap_handler(
    method: str,
    handler: grpc.RpcMethodHandler,
    translate: ExceptionTranslator | None = None,
    *,
    remote: bool = False,
) -> grpc.RpcMethodHandler:
    """``handler`` with every exception it raises turned into a status (``_abort``), and
    observed (``observed_handler``); used by the server's interceptor (``remote``) and by
    in-process calls (``drafter.rpc.local``, through ``wrap_local_handler``)."""
    return observed_handler(method, _status_handler(method, handler, translate), remote=remote)


# What becomes of an exception that a server stream's generator raised: ``context.abort``
# with its status, as the status wrapper (``_status_handler``) does; it raises AbortError.
StreamFailure = Callable[[Any, Exception], Awaitable[None]]


def wrap_local_handler(
    method: str, handler: grpc.RpcMethodHandler, translate: ExceptionTranslator | None = None
) -> tuple[grpc.RpcMethodHandler, StreamFailure | None]:
    """``wrap_handler`` for in-process calls, except for a server stream that is an async
    generator: its generator is left as the servicer's, and what it raises is for its
    reader (``drafter.rpc.local.LocalStreamCall``) to turn into the status with the
    ``StreamFailure`` returned. The reader already runs the generator, message by message
    (a stream's messages are its events): a wrapping generator would be one more layer to
    pass through per message, for what the reader can do where it catches the exception."""
    stream = handler.unary_stream
    if stream is None or not inspect.isasyncgenfunction(stream):
        return wrap_handler(method, handler, translate), None

    async def failed(context: Any, exc: Exception) -> None:
        await _abort(context, method, exc, translate)

    return observed_handler(method, handler, remote=False), failed


def _status_handler(
    method: str, handler: grpc.RpcMethodHandler, translate: ExceptionTranslator | None
) -> grpc.RpcMethodHandler:
    """``handler`` with every exception it raises turned into a status (``_abort``).

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
                messages = inner_stream(request, context)
                del request  # a stream may last minutes: the handler holds what it needs
                async for item in messages:
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, method, exc, translate)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, handler.request_deserializer, handler.response_serializer
        )
    return handler


# Probes and reflection are not traced.
_UNOBSERVED = ("/grpc.health.", "/grpc.reflection.")


@contextlib.contextmanager
def _call_scope(method: str, metadata: Any, remote: bool) -> Iterator[None]:
    """A call served from another process starts its own request scope (the caller's
    ``x-request-id``) and continues the caller's trace (``traceparent``); an in-process
    call already runs in its caller's context."""
    token = None
    if remote:
        _, token = request_scope.begin(_metadata_value(metadata, REQUEST_ID_KEY))
    try:
        parent = tracing.extract(metadata) if remote else None
        with tracing.span(method.lstrip("/"), kind=tracing.SERVER, parent=parent):
            yield
    finally:
        if token is not None:
            request_scope.end(token)


def _metadata_value(metadata: Any, name: str) -> str:
    for key, value in metadata or ():
        if key == name:
            return str(value)
    return ""


def observed_handler(
    method: str, handler: grpc.RpcMethodHandler, *, remote: bool
) -> grpc.RpcMethodHandler:
    """``handler`` inside a server span and the call's request scope, when tracing is on
    or logs are JSON (decided once, when the handler is wrapped); as it is otherwise.

    An in-process server stream is left as it is: its messages are read by whichever task
    reads the call (a span made current inside it could not be ended in another), and it
    runs in its caller's context, whose span its own spans join."""
    if method.startswith(_UNOBSERVED) or not (tracing.enabled() or logs.json_enabled()):
        return handler
    if handler.unary_unary is not None:
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: aio.ServicerContext) -> Any:
            with _call_scope(method, context.invocation_metadata(), remote):
                return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    stream = handler.unary_stream
    if stream is None or not remote or not inspect.isasyncgenfunction(stream):
        return handler

    async def unary_stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        with _call_scope(method, context.invocation_metadata(), remote):
            async for item in stream(request, context):
                yield item

    return grpc.unary_stream_rpc_method_handler(
        unary_stream, handler.request_deserializer, handler.response_serializer
    )


def _traced_details(details: aio.ClientCallDetails) -> aio.ClientCallDetails:
    return details._replace(metadata=aio.Metadata(*tracing.inject(tuple(details.metadata or ()))))


class TraceContextUnaryUnary(aio.UnaryUnaryClientInterceptor):
    """Client side: the current span's ``traceparent`` in every unary call's metadata."""

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_traced_details(client_call_details), request)


class TraceContextUnaryStream(aio.UnaryStreamClientInterceptor):
    """Client side: the current span's ``traceparent`` in every server stream's metadata."""

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_traced_details(client_call_details), request)


def trace_context_interceptors() -> list[aio.ClientInterceptor]:
    """What a channel needs to carry the trace to the services: nothing when tracing is
    off."""
    if not tracing.enabled():
        return []
    return [TraceContextUnaryUnary(), TraceContextUnaryStream()]
