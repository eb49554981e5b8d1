"""What a log line or a metric needs to know of the request being served: its id
(``x-request-id``) and the model it was admitted for, in one context variable.

The edge opens a scope per HTTP request (``drafter.http_observer``); a gRPC server opens
one per call from the caller's metadata (``drafter.rpc.interceptors``); an in-process call
runs in its caller's context and so sees the caller's scope. Tasks started during a
request copy the context, and so the scope: they write to the same object.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(slots=True)
class RequestScope:
    request_id: str = ""
    # The model table's id Authorize resolved the request's model to ("" for none).
    model: str = ""


# The longest ``x-request-id`` a caller may choose; a longer one is replaced by a new id.
MAX_REQUEST_ID_CHARS = 128

_SCOPE: ContextVar[RequestScope | None] = ContextVar("drafter_request_scope", default=None)


def current() -> RequestScope | None:
    return _SCOPE.get()


def begin(request_id: str = "") -> tuple[RequestScope, Token[RequestScope | None]]:
    """A new scope for this context; ``end`` it with the token."""
    scope = RequestScope(request_id)
    return scope, _SCOPE.set(scope)


def end(token: Token[RequestScope | None]) -> None:
    _SCOPE.reset(token)


def note_request_id(request_id: str) -> str:
    """Records the request's id (as the route settled it) and returns it."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.request_id = request_id
    return request_id


def note_model(model: str) -> None:
    """Records the model the request was admitted for (a model table id)."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.model = model
