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
        started = time.perf_counter()
        given = _header(scope, REQUEST_ID_HEADER)
        request, token = request_scope.begin(
            given if len(given) <= request_scope.MAX_REQUEST_ID_CHARS else ""
        )
        status, streaming = 500, False

        async def observed_send(message: Message) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers") or ():
                    if key.lower() == b"content-type" and value.startswith(_EVENT_STREAM):
                        streaming = True
                        metrics.STREAMS_IN_FLIGHT.inc()
            await send(message)

        def answered() -> None:
            if streaming:
                metrics.STREAMS_IN_FLIGHT.dec()
            route = route_template(scope, self.prefixes)
            metrics.record_http(route, request.model, status, time.perf_counter() - started)
            request_scope.end(token)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            # A stream handed off (``drafter.asgi_handoff``) is still flowing here.
            if not at_response_end(scope, answered):
                answered()
