"""THE status table of the edge: how a failed service call (gRPC status + ``ErrorReason``)
becomes HTTP, and the app-wide handlers that answer every failure of the API paths.

The API paths answer in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``,
``code`` being OpenAI's string code (or null), as clients branch on it. Routes let
``grpc.RpcError`` propagate: :func:`install_error_handlers` maps it here. The two other
shapes take their statuses from this table too: the web pages show a failure's message with
:func:`page_failure`, and the OAuth endpoints (RFC 6749 bodies, ``edge/oauth/errors.py``)
use :func:`http_status`. A stream that has already started reports a failure as an SSE
error frame built from :func:`api_error_from_rpc` (``edge/openai/chat_stream.py``).

What stays in a route is a decision, not a status: sign-in telling a wrong password from an
outage (``edge/web/auth.py``), an image id that cannot exist read as 404
(``edge/api/images.py``), an OAuth request sent back to its client
(``edge/oauth/authorize.py``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from drafter.common.v1 import errors_pb2 as errors_pb
from drafter.rpc.errors import RemoteError, error_from_rpc
from drafter.rpc.interceptors import REQUEST_ID_KEY

log = logging.getLogger("drafter.edge")

_C = grpc.StatusCode

# gRPC status → (HTTP status, error.type); reasons refine it below.
_STATUS_TABLE: dict[grpc.StatusCode, tuple[int, str]] = {
    _C.INVALID_ARGUMENT: (400, "invalid_request_error"),
    _C.FAILED_PRECONDITION: (400, "invalid_request_error"),
    _C.OUT_OF_RANGE: (400, "invalid_request_error"),
    _C.ALREADY_EXISTS: (400, "invalid_request_error"),
    _C.ABORTED: (400, "invalid_request_error"),
    _C.NOT_FOUND: (404, "not_found_error"),
    _C.UNAUTHENTICATED: (401, "authentication_error"),
    _C.PERMISSION_DENIED: (403, "permission_error"),
    _C.RESOURCE_EXHAUSTED: (429, "rate_limit_error"),
    _C.UNAVAILABLE: (503, "overloaded_error"),
    _C.DEADLINE_EXCEEDED: (503, "timeout_error"),
}
_DEFAULT = (500, "api_error")
# Statuses whose message is meant for the person on a web page (bad input, a plan limit,
# someone else's resource); a page shows it with the table's HTTP status.
_SHOWN_ON_PAGES = frozenset(
    {
        _C.INVALID_ARGUMENT,
        _C.FAILED_PRECONDITION,
        _C.ALREADY_EXISTS,
        _C.OUT_OF_RANGE,
        _C.PERMISSION_DENIED,
        _C.NOT_FOUND,
    }
)

# Error reasons → OpenAI's ``error.code`` (its own names where OpenAI has one).
_CODES: dict[int, str] = {
    errors_pb.ERROR_REASON_INVALID_CREDENTIAL: "invalid_api_key",
    errors_pb.ERROR_REASON_ACCOUNT_BLOCKED: "account_deactivated",
    errors_pb.ERROR_REASON_MODEL_NOT_IN_PLAN: "model_not_in_plan",
    errors_pb.ERROR_REASON_MODEL_NOT_FOUND: "model_not_found",
    errors_pb.ERROR_REASON_QUOTA_EXCEEDED: "rate_limit_exceeded",
    errors_pb.ERROR_REASON_UPSTREAM_UNAVAILABLE: "upstream_unavailable",
    errors_pb.ERROR_REASON_UPSTREAM_RATE_LIMITED: "upstream_rate_limited",
    errors_pb.ERROR_REASON_UPSTREAM_AUTH: "upstream_auth_failed",
    errors_pb.ERROR_REASON_MODEL_TABLE: "upstream_not_found",
    errors_pb.ERROR_REASON_PLAN_LIMIT: "plan_limit_reached",
    errors_pb.ERROR_REASON_INSUFFICIENT_SCOPE: "insufficient_scope",
    errors_pb.ERROR_REASON_WARMING_UP: "warming_up",
    errors_pb.ERROR_REASON_DATABASE_UNAVAILABLE: "database_unavailable",
    errors_pb.ERROR_REASON_UPSTREAM_TIMEOUT: "upstream_timeout",
}
# Statuses a reason sets where the gRPC status alone would say otherwise.
_REASON_STATUS: dict[int, tuple[int, str]] = {
    # OpenAI answers an unknown model with 404 and type invalid_request_error.
    errors_pb.ERROR_REASON_MODEL_NOT_FOUND: (404, "invalid_request_error"),
    errors_pb.ERROR_REASON_PAYLOAD_TOO_LARGE: (413, "invalid_request_error"),
    # An outage of ours, not an overloaded model: 503 with Retry-After (its metadata).
    errors_pb.ERROR_REASON_DATABASE_UNAVAILABLE: (503, "api_error"),
    # The upstream did not answer within the model's upstream_timeout_s: a gateway timeout.
    errors_pb.ERROR_REASON_UPSTREAM_TIMEOUT: (504, "timeout_error"),
}
# Anthropic's ``error.type`` where it differs from the OpenAI answer's (the table's types
# are Anthropic's vocabulary already): the Messages API answers a missing model with
# not_found_error and a body over a limit with request_too_large.
_ANTHROPIC_TYPES: dict[int, str] = {
    errors_pb.ERROR_REASON_MODEL_NOT_FOUND: "not_found_error",
    errors_pb.ERROR_REASON_PAYLOAD_TOO_LARGE: "request_too_large",
}
# The API paths answered in Anthropic's error shape always (the Messages API), and those
# answered in it when the request carries one of ``ANTHROPIC_HEADERS`` (the models list,
# which both SDKs read).
ANTHROPIC_PATH_SUFFIXES = ("/messages", "/messages/count_tokens")
ANTHROPIC_HEADERS = ("anthropic-version", "x-api-key")
# Failures a client must not retry (``x-should-retry: false``, which the OpenAI SDKs honour):
# a spent quota, and upstream failures the chat service already retried (one client
# request never costs more than 3 upstream attempts).
_NO_CLIENT_RETRY = frozenset(
    {
        errors_pb.ERROR_REASON_QUOTA_EXCEEDED,
        errors_pb.ERROR_REASON_UPSTREAM_UNAVAILABLE,
        errors_pb.ERROR_REASON_UPSTREAM_RATE_LIMITED,
    }
)
# What callers see of a failure whose details are ours (a bug), not theirs.
# The header Anthropic's answers name their request by (its SDKs read it).
ANTHROPIC_REQUEST_ID_HEADER = "request-id"
_OPAQUE_MESSAGE = "The server had an error while processing your request."
_UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; please retry. See /status."


@dataclass
class APIError(Exception):
    """An error to answer in the OpenAI shape."""

    status: int
    message: str
    type: str
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    # The type in Anthropic's shape, when it differs from ``type``.
    anthropic_type: str | None = None

    def body(self) -> dict[str, object]:
        error = {"message": self.message, "type": self.type, "param": self.param}
        return {"error": {**error, "code": self.code}}

    def anthropic_body(self, request_id: str) -> dict[str, object]:
        """The same error in Anthropic's shape."""
        error = {"type": self.anthropic_type or self.type, "message": self.message}
        return {"type": "error", "error": error, "request_id": request_id}

    def anthropic_response(self, request_id: str) -> Response:
        return Response(
            orjson.dumps(self.anthropic_body(request_id)),
            status_code=self.status,
            headers={**self.headers, ANTHROPIC_REQUEST_ID_HEADER: request_id},
            media_type="application/json",
        )

    def response(self) -> Response:
        return Response(
            orjson.dumps(self.body()),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


def invalid_request(message: str, param: str | None = None) -> APIError:
    return APIError(400, message, "invalid_request_error", param)


def unauthenticated(message: str) -> APIError:
    code = _CODES[errors_pb.ERROR_REASON_INVALID_CREDENTIAL]
    return APIError(401, message, "authentication_error", code=code)


def payload_too_large(message: str, param: str | None = None) -> APIError:
    """What the edge answers itself for a body over a limit, as the table answers a
    service's PAYLOAD_TOO_LARGE."""
    reason = errors_pb.ERROR_REASON_PAYLOAD_TOO_LARGE
    status, error_type = _REASON_STATUS[reason]
    return APIError(status, message, error_type, param, anthropic_type=_ANTHROPIC_TYPES[reason])


def model_not_found(message: str) -> APIError:
    """What the edge answers itself for a model it does not serve, as the table answers a
    service's MODEL_NOT_FOUND (404, ``model_not_found``, ``param: model``)."""
    status, error_type = _REASON_STATUS[errors_pb.ERROR_REASON_MODEL_NOT_FOUND]
    code = _CODES[errors_pb.ERROR_REASON_MODEL_NOT_FOUND]
    return APIError(status, message, error_type, "model", code=code)


def http_status(code: grpc.StatusCode) -> int:
    """The HTTP status of a gRPC status alone (no reason), from the table."""
    return _STATUS_TABLE.get(code, _DEFAULT)[0]


def page_failure(err: RemoteError) -> tuple[int, str] | None:
    """(HTTP status, message) of a failed call that a web page shows the user; None for a
    failure that is ours, not theirs (the caller re-raises it)."""
    if err.code not in _SHOWN_ON_PAGES:
        return None
    return http_status(err.code), err.message or "That did not work."


def _headers(err: RemoteError) -> dict[str, str]:
    headers: dict[str, str] = {}
    retry_after = err.metadata.get("retry_after_s")
    if retry_after:
        headers["Retry-After"] = retry_after
    if err.reason in _NO_CLIENT_RETRY:
        headers["x-should-retry"] = "false"
    return headers


def api_error_from_remote(err: RemoteError) -> APIError:
    """Maps a failed service call to what the caller sees (STYLE.md's table)."""
    status, error_type = _REASON_STATUS.get(err.reason) or _STATUS_TABLE.get(err.code, _DEFAULT)
    quota = err.reason == errors_pb.ERROR_REASON_QUOTA_EXCEEDED
    if err.code == _C.RESOURCE_EXHAUSTED and not quota:
        # gRPC's own (message too large, too many concurrent calls): overload, not quota.
        status, error_type = 503, "overloaded_error"
    message = err.message
    explained = err.reason != errors_pb.ERROR_REASON_UNSPECIFIED
    if err.code in (_C.UNAVAILABLE, _C.DEADLINE_EXCEEDED) and not explained:
        message = _UNAVAILABLE_MESSAGE
    elif status >= 500 and not explained:
        message = _OPAQUE_MESSAGE
    code = err.metadata.get("code") or _CODES.get(err.reason)
    return APIError(
        status,
        message or "Request failed.",
        error_type,
        err.metadata.get("param"),
        _headers(err),
        code,
        _ANTHROPIC_TYPES.get(err.reason),
    )


def api_error_from_rpc(exc: grpc.RpcError) -> APIError:
    return api_error_from_remote(error_from_rpc(exc))


def _field_path(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts)


def api_error_from_validation(errors: Sequence[Mapping[str, Any]]) -> APIError:
    """The first validation problem, naming the field, as OpenAI words it."""
    first: Mapping[str, Any] = errors[0] if errors else {"msg": "Invalid request body."}
    path = _field_path(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return invalid_request("We could not parse the JSON body of your request.")
    if kind == "extra_forbidden":
        return invalid_request(f"Unrecognized request argument supplied: {path}", path)
    if kind == "missing":
        return invalid_request(f"Missing required parameter: '{path}'.", path)
    return invalid_request(f"Invalid value for '{path}': {first.get('msg', 'invalid')}.", path)


def anthropic_shaped(path: str, headers: Mapping[str, str]) -> bool:
    """Whether an API path answers in Anthropic's shapes: the Messages API always, the
    models list when the request carries ``anthropic-version`` or ``x-api-key``."""
    path = path.rstrip("/")
    if path.endswith(ANTHROPIC_PATH_SUFFIXES):
        return True
    models = path.endswith("/models") or "/models/" in path
    return models and any(name in headers for name in ANTHROPIC_HEADERS)


def anthropic_request_id(request: Request) -> str:
    """The id an Anthropic-shaped answer names: the one its route gave the request, else
    the client's ``x-request-id``, else a new one."""
    given = getattr(request.state, "request_id", None) or request.headers.get(REQUEST_ID_KEY)
    if given and len(given) <= 128:
        return str(given)
    return new_request_id()


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def error_response(request: Request, err: APIError) -> Response:
    """``err`` in the shape of the request's API (OpenAI's, or Anthropic's)."""
    if anthropic_shaped(request.url.path, request.headers):
        return err.anthropic_response(anthropic_request_id(request))
    return err.response()


def install_error_handlers(app: FastAPI) -> None:
    """Every failure that reaches the framework is answered in the error shape of its API
    (:func:`error_response`)."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(grpc.RpcError)
    async def _rpc_error(request: Request, exc: grpc.RpcError) -> Response:
        return error_response(request, api_error_from_rpc(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, api_error_from_validation(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error_type = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return error_response(request, APIError(exc.status_code, str(exc.detail), error_type))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(request, APIError(500, _OPAQUE_MESSAGE, "api_error"))
