"""The one place where failures become HTTP: gRPC statuses, validation errors and
anything unexpected all leave the edge as OpenAI's ``{"error": {"message", "type",
"param", "code"}}``, ``code`` being OpenAI's string code (or null), as clients branch on it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import grpc
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from drafter.rpc.errors import RemoteError, error_from_rpc

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

# Error reasons → OpenAI's ``error.code`` (its own names where OpenAI has one).
_CODES: dict[str, str] = {
    "INVALID_CREDENTIAL": "invalid_api_key",
    "ACCOUNT_BLOCKED": "account_deactivated",
    "MODEL_NOT_IN_PLAN": "model_not_in_plan",
    "MODEL_NOT_FOUND": "model_not_found",
    "QUOTA_EXCEEDED": "rate_limit_exceeded",
    "UPSTREAM_UNAVAILABLE": "upstream_unavailable",
    "UPSTREAM_RATE_LIMITED": "upstream_rate_limited",
    "UPSTREAM_AUTH": "upstream_auth_failed",
    "MODEL_TABLE": "upstream_not_found",
    "PLAN_LIMIT": "plan_limit_reached",
    "INSUFFICIENT_SCOPE": "insufficient_scope",
}
# Statuses a reason sets where the gRPC status alone would say otherwise.
_REASON_STATUS: dict[str, tuple[int, str]] = {
    # OpenAI answers an unknown model with 404 and type invalid_request_error.
    "MODEL_NOT_FOUND": (404, "invalid_request_error"),
}
# What callers see of a failure whose details are ours (a bug), not theirs.
_OPAQUE_MESSAGE = "The server had an error while processing your request."


@dataclass
class APIError(Exception):
    """An error to answer in the OpenAI shape."""

    status: int
    message: str
    type: str
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None

    def body(self) -> dict[str, object]:
        error = {"message": self.message, "type": self.type, "param": self.param}
        return {"error": {**error, "code": self.code}}

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
    return APIError(401, message, "authentication_error", code=_CODES["INVALID_CREDENTIAL"])


def api_error_from_remote(err: RemoteError) -> APIError:
    """Maps a failed service call to what the caller sees (STYLE.md's table)."""
    status, error_type = _REASON_STATUS.get(err.reason) or _STATUS_TABLE.get(err.code, _DEFAULT)
    param = err.metadata.get("param")
    headers: dict[str, str] = {}
    if err.code == _C.RESOURCE_EXHAUSTED and err.reason != "QUOTA_EXCEEDED":
        # gRPC's own (message too large, too many concurrent calls): overload, not quota.
        status, error_type = 503, "overloaded_error"
    if "http_status" in err.metadata and status == 400:
        status = int(err.metadata["http_status"])
    retry_after = err.metadata.get("retry_after_s")
    if retry_after:
        headers["Retry-After"] = retry_after
    if err.reason == "QUOTA_EXCEEDED":
        headers["x-should-retry"] = "false"
    message = err.message
    reason = "" if err.reason == "UNSPECIFIED" else err.reason
    if err.code in (_C.UNAVAILABLE, _C.DEADLINE_EXCEEDED) and not reason:
        message = "The service is temporarily unavailable; please retry. See /status."
    elif status >= 500 and not reason:
        message = _OPAQUE_MESSAGE
    code = err.metadata.get("code") or _CODES.get(err.reason)
    return APIError(status, message or "Request failed.", error_type, param, headers, code)


def api_error_from_rpc(exc: grpc.RpcError) -> APIError:
    return api_error_from_remote(error_from_rpc(exc))


def _field_path(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts)


def api_error_from_validation(errors: list[dict]) -> APIError:
    """The first validation problem, naming the field, as OpenAI words it."""
    first = errors[0] if errors else {"loc": (), "msg": "Invalid request body."}
    path = _field_path(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return invalid_request("We could not parse the JSON body of your request.")
    if kind == "extra_forbidden":
        return invalid_request(f"Unrecognized request argument supplied: {path}", path)
    if kind == "missing":
        return invalid_request(f"Missing required parameter: '{path}'.", path)
    return invalid_request(f"Invalid value for '{path}': {first.get('msg', 'invalid')}.", path)


def install_error_handlers(app: FastAPI) -> None:
    """Every failure that reaches the framework is answered in the OpenAI error shape."""

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> Response:
        return exc.response()

    @app.exception_handler(grpc.RpcError)
    async def _rpc_error(_: Request, exc: grpc.RpcError) -> Response:
        return api_error_from_rpc(exc).response()

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        return api_error_from_validation(list(exc.errors())).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        error_type = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return APIError(exc.status_code, str(exc.detail), error_type).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return APIError(500, _OPAQUE_MESSAGE, "api_error").response()
