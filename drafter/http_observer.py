"""The edge's requests, observed once each at the outermost layer of the app (ASGI):
counted by route template, model and status, timed to the end of the answer, streams
counted while they flow (``drafter.metrics``); and the request's scope for log lines
(``drafter.request_scope``). The request's server span is FastAPI's own (its built-in
OpenTelemetry support, on once ``drafter.tracing`` installs a tracer provider; it
continues the caller's ``traceparent``). Nothing here runs per streamed event: the
``send`` wrapper only looks at the response's start, and a stream is recorded when it
ends, also when it was handed off (``drafter.asgi_handoff``)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import Token
from typing import Any

from drafter import metrics, request_scope
from drafter.asgi_handoff import at_response_end

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = b"x-request-id"
# The label of a request no route matched (a 404, a static file): never its raw path.
UNMATCHED_ROUTE = "other"
_EVENT_STREAM = b"text/event-stream"


def route_template(scope: Scope, prefixes: tuple[str, ...] = ()) -> str:
    """The matched route's template (``/v1/models/{model_id}``), set by the router; a
    router mounted under one of ``prefixes`` names its routes without it, so the prefix
    the request came under is put back."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED_ROUTE
    raw = str(scope.get("path", ""))
    for prefix in prefixes:
        if raw.startswith(prefix + "/") and not path.startswith(prefix + "/"):
            return prefix + path
    return path


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class RequestObserver:
    """ASGI middleware: metrics, the request's span and its scope, per HTTP request."""

    def __init__(self, app: App, prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.prefixes = prefixes  # where routers are mounted (``route_template``)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER)
        request, token = request_scope.begin(
            given if len(given) <= request_scope.MAX_REQUEST_ID_CHARS else ""
        )
        observed = _Observed(scope, self.prefixes, request, token)

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                observed.answer_started(message)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            # A stream handed off (``drafter.asgi_handoff``) is still flowing here.
            if not at_response_end(scope, observed.answered):
                observed.answered()


class _Observed:
    """One request as observed: what its answer's start said, and what is recorded when
    the answer ends. An object rather than a closure: a stream keeps it for as long as it
    flows."""

    __slots__ = ("_prefixes", "_request", "_scope", "_started", "_status", "_streaming", "_token")

    def __init__(
        self,
        scope: Scope,
        prefixes: tuple[str, ...],
        request: request_scope.RequestScope,
        token: Token[request_scope.RequestScope | None],
    ) -> None:
        self._started = time.perf_counter()
        self._scope = scope
        self._prefixes = prefixes
        self._request = request
        self._token = token
        self._status = 500
        self._streaming = False

    def answer_started(self, message: Message) -> None:
        self._status = message["status"]
        for key, value in message.get("headers") or ():
            if key.lower() == b"content-type" and value.startswith(_EVENT_STREAM):
                self._streaming = True
                metrics.STREAMS_IN_FLIGHT.inc()

    def answered(self) -> None:
        if self._streaming:
            metrics.STREAMS_IN_FLIGHT.dec()
        route = route_template(self._scope, self._prefixes)
        elapsed = time.perf_counter() - self._started
        metrics.record_http(route, self._request.model, self._status, elapsed)
        request_scope.end(self._token)
