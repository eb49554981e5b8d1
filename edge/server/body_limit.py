"""The request-body limit on every path (``DRAFTER_MAX_BODY_BYTES``, 32 MB by default,
as Anthropic's API): a body over it is answered 413 before it is read whole.

An ASGI middleware: a declared ``Content-Length`` over the limit is refused before the
app runs; a body without one (chunked) is counted while the app reads it, and the read
that crosses the limit ends the request with the same 413. The answer has the shape of
the path's API: OpenAI's error on the API paths (Anthropic's on the Messages API), RFC
6749's on the OAuth endpoints, plain text on the pages; it closes the connection, so the
rest of the body is not read.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drafter.edge.errors import anthropic_shaped, new_request_id, payload_too_large
from drafter.edge.oauth.errors import OAuthError

API_PREFIXES = ("/api/v1/", "/v1/")
OAUTH_PREFIX = "/oauth/"


class _BodyTooLarge(Exception):
    """The body being read crossed the limit."""


def too_large_response(path: str, max_bytes: int) -> Response:
    message = f"Request body too large: the limit is {max_bytes} bytes."
    response: Response
    if path.startswith(API_PREFIXES):
        error = payload_too_large(message)
        anthropic = anthropic_shaped(path, {})
        response = error.anthropic_response(new_request_id()) if anthropic else error.response()
    elif path.startswith(OAUTH_PREFIX):
        response = OAuthError("invalid_request", message, status=413).response()
    else:
        response = PlainTextResponse(message, status_code=413)
    response.headers["Connection"] = "close"
    return response


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """Answers 413 for request bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large_response(scope["path"], self.max_bytes)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLarge:
            if started:
                raise
            await too_large_response(scope["path"], self.max_bytes)(scope, receive, send)
