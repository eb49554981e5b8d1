"""The cap on streams open at once in one edge process (``DRAFTER_MAX_STREAMS``).

A streamed answer holds its connection, an upstream request and a little memory for as
long as the model writes, and every stream's events share this process's one core. Past
what the core can relay on time, more streams only make every stream late (and new
connections wait in the listen queue, then get reset). So beyond the cap a new streaming
request is answered at once: 503 with ``Retry-After``, in the shape of the path's API
(OpenAI's error, Anthropic's ``overloaded_error`` on the Messages API), before it is
authorised or any quota reserved; another edge process or replica, or the same one a
moment later, serves the retry. Requests that do not stream are never refused here.

An ASGI middleware: for a POST to a path that can stream it reads the body (it is read
whole by the route anyway) and hands it on unchanged; a body asking for ``"stream":
true`` counts as one stream from then until its answer ends.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drafter.asgi_handoff import at_response_end
from drafter.edge.errors import APIError, anthropic_shaped, new_request_id

# Measured with ``bench/compare --long-streams`` (streams of 200 events 50 ms apart): one
# edge process relays about 10,000 events a second on one core, so 500 streams of 20
# events a second keep their pace and about 700 are held at most. 600 keeps the
# inter-token delay near the upstream's own under a full load of fast streams, and a
# slower stream (thinking, tool calls) costs less than the ones measured.
DEFAULT_MAX_STREAMS = 600
RETRY_AFTER_S = 2
STREAMING_PATHS = ("/chat/completions", "/messages", "/responses")
API_PREFIXES = ("/api/v1/", "/v1/")


def listen_backlog(max_streams: int) -> int:
    """The listen queue for an edge process capped at ``max_streams``: room for a burst
    of that many new connections four times over while the loop is busy, so they are
    accepted and answered (served or refused) rather than reset. The kernel caps it at
    ``net.core.somaxconn``."""
    return max(2048, 4 * max_streams)


def asks_to_stream(body: bytes) -> bool:
    if b'"stream"' not in body:
        return False
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False  # the route answers the malformed body
    return isinstance(parsed, dict) and parsed.get("stream") is True


def _streams_here(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path: str = scope["path"].rstrip("/")
    return path.startswith(API_PREFIXES) and path.endswith(STREAMING_PATHS)


def overloaded(max_streams: int) -> APIError:
    message = (
        f"This server is relaying as many streams as it can ({max_streams}); "
        f"please retry in {RETRY_AFTER_S} s."
    )
    return APIError(
        503,
        message,
        "overloaded_error",
        headers={"Retry-After": str(RETRY_AFTER_S)},
        code="too_many_streams",
    )


async def _whole_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: the app sees an empty body and then the same
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


class StreamCap:
    """Answers 503 + ``Retry-After`` to a streaming request while ``max_streams`` are open."""

    def __init__(self, app: ASGIApp, max_streams: int) -> None:
        self.app = app
        self.max_streams = max_streams
        self.open = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _streams_here(scope):
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        if not asks_to_stream(body):
            await self.app(scope, replay, send)
            return
        if self.open >= self.max_streams:
            await self._refuse(scope, receive, send)
            return
        self.open += 1
        try:
            await self.app(scope, replay, send)
        finally:
            # A stream handed off (``drafter.asgi_handoff``) is still open here.
            if not at_response_end(scope, self._closed):
                self._closed()

    def _closed(self) -> None:
        self.open -= 1

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = overloaded(self.max_streams)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if anthropic_shaped(scope["path"], headers):
            response = error.anthropic_response(new_request_id())
        else:
            response = error.response()
        await response(scope, receive, send)
