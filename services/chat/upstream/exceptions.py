"""How an upstream call fails, as the chat service raises and catches it: a small hierarchy
of our own, carrying what Drafter reads of a failure (the anthropic SDK's exception
classes did, at the cost of importing the SDK: ``client``'s docstring). The one table in
``errors`` turns each into a Drafter error.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx2
import orjson


class UpstreamError(Exception):
    """An upstream call that failed. Raised as itself only for a failure of the SDK's own
    credential machinery (``upstream.sdk``); otherwise as one of the classes below."""


class UpstreamStatusError(UpstreamError):
    """The upstream refused: an error status, or an ``error`` event in a stream (whose
    status is the stream's own, 200). Carries the answer's status, body (its JSON, else
    its text) and headers, and the API's error type and message from the body (None when
    the body has none)."""

    def __init__(
        self, status_code: int, body: object, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers = httpx2.Headers(headers or {})
        error = body.get("error") if isinstance(body, dict) else None
        self.error_type = _text(error, "type")
        self.api_message = _text(error, "message")
        super().__init__(f"upstream status {status_code}: {self.api_message or body}")


class UpstreamConnectionError(UpstreamError):
    """No answer came: the connection could not be made or broke before the answer."""


class UpstreamTimeoutError(UpstreamConnectionError):
    """No answer came in time (connecting, sending, or waiting for it)."""


class UnreadableAnswer(UpstreamError):
    """An answer that is not what the API sends: a body that is not JSON, or not a
    Message."""


def status_error(response: httpx2.Response) -> UpstreamStatusError:
    """The error an error answer is (its body already read)."""
    content = response.content
    body: object
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = content.decode(errors="replace").strip()
    return UpstreamStatusError(response.status_code, body, response.headers)


def _text(error: object, key: str) -> str | None:
    value = error.get(key) if isinstance(error, dict) else None
    return value if isinstance(value, str) else None
