"""In-process calls: the generated stubs over a channel that calls the servicers directly.

``drafter up`` runs the edge and the three services in one process and one event loop.
A gRPC call between them still crosses HTTP/2 over loopback: framing, four socket
operations, gRPC's event-engine thread and the hand-off between its poller and asyncio:
about half the CPU of a whole chat request, measured. :class:`LocalChannel` is what grpc-java's
``InProcessChannelBuilder`` and grpc-go's ``bufconn`` are for: the same registrations the
server has (the generated ``add_..._to_server`` functions register into a
:class:`LocalRegistry`), with the same statuses as the server's error interceptor, and
what callers rely on kept: status codes with their rich details (raised as
:class:`grpc.aio.AioRpcError`), deadlines, invocation metadata and cancellation (a
cancelled caller cancels the handler; a cancelled stream closes the handler's generator).

Each unary call is a task of its own, started at once, as gRPC's calls are: the handler
runs whether or not the caller awaits yet, and ``cancel()`` stops it. Messages are handed
over by reference, as grpc-java's in-process transport does for protobuf messages:
neither side touches a message after sending it. Unary and server-streaming methods are
served; Drafter's services have no client-streaming ones. The gRPC servers keep serving
everyone else (more edge processes, other consumers).

A server stream's reader may also take messages as they come (``LocalStreamCall.
read_directly``): a handler that produces a message within a callback of its own (bytes
arrived from its upstream) while the reader waits in ``read()`` may hand it to the
reader's :class:`DirectReader` there, in order, instead of yielding it, when the reader
is ``ready()``: no task wakes and no generator is passed through for it. It is an
offer the handler may ignore (a gRPC call has none): the messages it yields are read as
ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, NamedTuple, NoReturn, Protocol

import grpc
from grpc import aio

from drafter.rpc.interceptors import ExceptionTranslator, StreamFailure, wrap_local_handler

Metadata = Sequence[tuple[str, str | bytes]]
_CANCELLED_DETAILS = "Locally cancelled by application!"
_DEBUG = "in-process call"


class Served(NamedTuple):
    """A method as in-process calls run it (``wrap_local_handler``): its handler, and for
    a server stream read straight off the servicer's generator, how what the generator
    raises becomes the call's status."""

    handler: grpc.RpcMethodHandler
    stream_failure: StreamFailure | None = None


class LocalRegistry:
    """The server side of in-process calls: what ``add_..._to_server`` registers into."""

    def __init__(self, translate: ExceptionTranslator | None = None) -> None:
        self._served: dict[str, Served] = {}
        self._generic: list[grpc.GenericRpcHandler] = []
        self._translate = translate  # the server's (``start_server``)

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        for name, handler in handlers.items():
            path = f"/{service}/{name}"
            self._served[path] = self._serve(path, handler)

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._generic.extend(handlers)

    def served(self, method: str) -> Served | None:
        found = self._served.get(method)
        if found is None:
            for generic in self._generic:
                candidate = generic.service(_CallDetails(method))
                if candidate is not None:
                    found = self._served[method] = self._serve(method, candidate)
                    break
        return found

    def _serve(self, method: str, handler: grpc.RpcMethodHandler) -> Served:
        return Served(*wrap_local_handler(method, handler, self._translate))

    def channel(self) -> LocalChannel:
        return LocalChannel(self)


class _CallDetails(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


class LocalChannel(aio.Channel):
    """A channel whose calls run the registered handlers in the caller's event loop."""

    def __init__(self, registry: LocalRegistry) -> None:
        self._registry = registry

    def _served(self, method: str) -> Served:
        served = self._registry.served(method)
        return served if served is not None else Served(_unimplemented(method))

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _UnaryUnary(self._served(method).handler)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _UnaryStream(self._served(method))

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _ClientStreamingUnsupported(method)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _ClientStreamingUnsupported(method)

    async def close(self, grace: float | None = None) -> None:
        """Nothing to close: the services belong to whoever started them."""

    async def __aenter__(self) -> LocalChannel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return grpc.ChannelConnectivity.READY

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await asyncio.Event().wait()  # an in-process channel never changes state

    async def channel_ready(self) -> None:
        return None


def _unimplemented(method: str) -> grpc.RpcMethodHandler:
    async def unimplemented(request: Any, context: LocalContext) -> NoReturn:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"Method not found: {method}")

    return grpc.unary_unary_rpc_method_handler(unimplemented)


class DirectReader(Protocol):
    """The reader of an in-process server stream, taking messages as they come."""

    def ready(self) -> bool:
        """Whether it takes a message now (its ``read()`` waits, with nothing before)."""
        ...

    def __call__(self, message: Any) -> None:
        """Takes ``message`` as the stream's next: as if ``read()`` had returned it."""
        ...


class LocalContext:
    """What a servicer sees of an in-process call: the parts of ``aio.ServicerContext``
    that handlers use (metadata, abort, status, deadline), and the reader that takes a
    stream's messages as they come, when it offers to (``direct_reader``)."""

    def __init__(self, metadata: Metadata | None, deadline: float | None) -> None:
        self._metadata = tuple(metadata or ())
        self.deadline = deadline  # on the event loop's clock
        self.direct_reader: DirectReader | None = None
        self._code = grpc.StatusCode.OK
        self._details = ""
        self._trailing: Metadata = ()

    def invocation_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self._metadata

    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Metadata = ()
    ) -> NoReturn:
        self._code, self._details = code, details
        if trailing_metadata:
            self._trailing = trailing_metadata
        raise aio.AbortError(details)

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code

    def set_details(self, details: str) -> None:
        self._details = details

    def set_trailing_metadata(self, trailing_metadata: Metadata) -> None:
        self._trailing = trailing_metadata

    async def send_initial_metadata(self, initial_metadata: Metadata) -> None:
        return None

    def time_remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    def peer(self) -> str:
        return "local"

    def code(self) -> grpc.StatusCode:
        return self._code

    def error(self) -> aio.AioRpcError | None:
        """The status the handler set, as the caller's exception (None when OK)."""
        if self._code == grpc.StatusCode.OK:
            return None
        return _rpc_error(self._code, self._details, self._trailing)


def _rpc_error(code: grpc.StatusCode, details: str, trailing: Metadata = ()) -> aio.AioRpcError:
    return aio.AioRpcError(
        code, aio.Metadata(), aio.Metadata(*trailing), details=details, debug_error_string=_DEBUG
    )


def _deadline_exceeded() -> aio.AioRpcError:
    return _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")


def _deadline(timeout: float | None, loop: asyncio.AbstractEventLoop) -> float | None:
    return None if timeout is None else loop.time() + timeout


class _UnaryUnary:
    """A unary method. As with gRPC, the call starts at once, whether or not it is awaited
    yet: it is a task, which ``cancel()`` cancels (and with it the handler)."""

    def __init__(self, handler: grpc.RpcMethodHandler) -> None:
        self._behaviour: Callable[..., Any] = handler.unary_unary

    def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
        **options: Any,
    ) -> asyncio.Task[Any]:
        loop = asyncio.get_running_loop()
        context = LocalContext(metadata, _deadline(timeout, loop))
        return loop.create_task(self._invoke(request, context))

    async def _invoke(self, request: Any, context: LocalContext) -> Any:
        deadline = context.deadline
        try:
            if deadline is None:
                response = await _awaited(self._behaviour(request, context))
            else:
                async with asyncio.timeout_at(deadline) as scope:
                    response = await _awaited(self._behaviour(request, context))
        except aio.AbortError:
            raise context.error() or _rpc_error(grpc.StatusCode.UNKNOWN, "") from None
        except TimeoutError:
            if deadline is not None and scope.expired():
                raise _deadline_exceeded() from None
            raise
        error = context.error()
        if error is not None:
            raise error
        return response


async def _awaited(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


class _UnaryStream:
    """A server-streaming method, pulled by the caller: each ``read()`` runs the handler's
    generator, in the reading task, up to its next message."""

    def __init__(self, served: Served) -> None:
        self._behaviour: Callable[..., AsyncIterator[Any]] = served.handler.unary_stream
        self._failure = served.stream_failure

    def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Metadata | None = None,
        **options: Any,
    ) -> LocalStreamCall:
        loop = asyncio.get_running_loop()
        context = LocalContext(metadata, _deadline(timeout, loop))
        return LocalStreamCall(self._behaviour(request, context), context, loop, self._failure)


class LocalStreamCall(aio.UnaryStreamCall):
    """One in-process server-streaming call (``aio.UnaryStreamCall``'s interface).

    Its deadline is one timer for the whole call, armed at the first read: when it fires
    during a read, the reading task is cancelled there and the read fails with
    DEADLINE_EXCEEDED; between reads, the next read fails so. A stream's reads are its
    events, so a read costs no timer of its own.

    With ``failure`` (``wrap_local_handler``), ``messages`` is the servicer's own
    generator, and what it raises becomes the call's status here, as the server's status
    wrapper would answer it. The call's ``loop`` is passed in, so that a read looks up
    its task without the process-id check of an implicit loop (a system call)."""

    def __init__(
        self,
        messages: AsyncIterator[Any],
        context: LocalContext,
        loop: asyncio.AbstractEventLoop,
        failure: StreamFailure | None = None,
    ) -> None:
        self._messages = messages
        self._context = context
        self._loop = loop
        self._failure = failure
        self._reader: asyncio.Task[Any] | None = None
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._expired = False  # the deadline passed
        self._cancelled_for_deadline = False  # ... during a read, whose task it cancelled
        self._code: grpc.StatusCode | None = None
        self._error: aio.AioRpcError | None = None
        self._callbacks: list[Callable[[Any], None]] = []
        self._closing: asyncio.Task[None] | None = None

    def read_directly(self, reader: DirectReader | None) -> None:
        """Offers the handler ``reader`` (None takes it back): see the module's docstring.
        The reader is ready only while its ``read()`` waits; the call's end takes it back."""
        self._context.direct_reader = reader if self._code is None else None

    async def read(self) -> Any:
        if self._code is not None:
            return self._after_end()
        loop = self._loop
        if self._expired:  # it passed between reads: the handler never resumes
            self._closing = loop.create_task(self._close_messages())
            return self._past_deadline()
        reader = self._reader = asyncio.current_task(loop)
        if self._deadline_timer is None and self._context.deadline is not None:
            self._deadline_timer = loop.call_at(self._context.deadline, self._deadline_passed)
        try:
            return await anext(self._messages)
        except StopAsyncIteration:
            self._end(grpc.StatusCode.OK)
            return aio.EOF
        except aio.AbortError:
            return self._aborted()
        except asyncio.CancelledError:
            # Ours (the deadline) unless the task was also cancelled by someone else.
            if self._cancelled_for_deadline and reader is not None:
                self._cancelled_for_deadline = False
                if reader.uncancel() == 0:
                    return self._past_deadline()
            raise
        except Exception as exc:
            if self._failure is None:
                raise
            return await self._failed(exc)
        finally:
            self._reader = None

    def _aborted(self) -> NoReturn:
        """The handler aborted: the status it set ends the call."""
        self._end(self._context.code(), self._context.error())
        raise self._error from None  # type: ignore[misc]

    async def _failed(self, exc: Exception) -> NoReturn:
        """The handler's generator raised ``exc``: the status the server would answer."""
        assert self._failure is not None
        with contextlib.suppress(aio.AbortError):  # it aborts: the status is in the context
            await self._failure(self._context, exc)
        self._aborted()

    def _deadline_passed(self) -> None:
        self._deadline_timer = None
        if self._code is not None:
            return
        self._expired = True
        if self._reader is not None:
            self._cancelled_for_deadline = True
            self._reader.cancel()

    async def _close_messages(self) -> None:
        if hasattr(self._messages, "aclose"):
            await self._messages.aclose()

    def _past_deadline(self) -> Any:
        self._end(grpc.StatusCode.DEADLINE_EXCEEDED, _deadline_exceeded())
        raise self._error from None  # type: ignore[misc]

    def _after_end(self) -> Any:
        if self._code == grpc.StatusCode.CANCELLED:
            raise asyncio.CancelledError()
        if self._error is not None:
            raise self._error
        return aio.EOF

    def _end(self, code: grpc.StatusCode, error: aio.AioRpcError | None = None) -> None:
        if self._code is not None:
            return
        self._code, self._error = code, error
        self._context.direct_reader = None
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (message := await self.read()) is not aio.EOF:
            yield message

    def cancel(self) -> bool:
        """Ends the call: a pending ``read()`` raises CancelledError there, and the
        handler's generator unwinds (closing what it opened)."""
        if self._code is not None:
            return False
        cancelled = _rpc_error(grpc.StatusCode.CANCELLED, _CANCELLED_DETAILS)
        self._end(grpc.StatusCode.CANCELLED, cancelled)
        if self._reader is not None:
            self._reader.cancel()
        elif hasattr(self._messages, "aclose"):
            self._closing = self._loop.create_task(self._messages.aclose())
        return True

    def cancelled(self) -> bool:
        return bool(self._code == grpc.StatusCode.CANCELLED)

    def done(self) -> bool:
        return self._code is not None

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        if self._code is not None:
            callback(self)
        else:
            self._callbacks.append(callback)

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    async def initial_metadata(self) -> aio.Metadata:
        return aio.Metadata()

    async def trailing_metadata(self) -> aio.Metadata:
        return self._error.trailing_metadata() if self._error else aio.Metadata()

    async def code(self) -> grpc.StatusCode:
        return self._code or grpc.StatusCode.OK

    async def details(self) -> str:
        return (self._error.details() if self._error else "") or ""

    async def wait_for_connection(self) -> None:
        return None


class _ClientStreamingUnsupported:
    def __init__(self, method: str) -> None:
        self._method = method

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _rpc_error(
            grpc.StatusCode.UNIMPLEMENTED,
            f"{self._method}: client streaming is not served in process",
        )
