"""The one table from anthropic SDK exceptions to :class:`DrafterError` (STYLE.md,
"Anthropic SDK exception → chat service status"). Applied after the SDK's own bounded
retries; the edge refunds the caller's reservation on every one of these.

Every upstream refusal keeps the upstream's own words. The two that are the operator's
to fix, not the caller's (the upstream does not know a model id of the model table, or
refuses the service's credentials), are also logged at error level, once per request.
"""

from __future__ import annotations

import logging
import math

import anthropic

from drafter.common.v1 import errors_pb2
from drafter.model_table import ModelNotFound
from drafter.rpc.errors import (
    DrafterError,
    InternalError,
    InvalidRequest,
    UpstreamTimeout,
    UpstreamUnavailable,
)

log = logging.getLogger("drafter.chat")

# The caller learns whose problem it is; the upstream's words go to the operator's log.
UPSTREAM_AUTH_MESSAGE = (
    "The upstream model provider rejected this server's credentials; the operator must fix them."
)
# The live API's 404 for an id it does not serve says "model: <id>".
UNKNOWN_MODEL_PREFIX = "model:"

# (exception class, error raised, reason; None keeps the error class's own reason).
# First match wins, so subclasses come before their bases.
STATUS_ERRORS: tuple[tuple[type[anthropic.APIStatusError], type[DrafterError], int | None], ...] = (
    (anthropic.BadRequestError, InvalidRequest, None),
    (anthropic.UnprocessableEntityError, InvalidRequest, None),
    (anthropic.RequestTooLargeError, InvalidRequest, None),
    (anthropic.AuthenticationError, InternalError, errors_pb2.ERROR_REASON_UPSTREAM_AUTH),
    (anthropic.PermissionDeniedError, InternalError, errors_pb2.ERROR_REASON_UPSTREAM_AUTH),
    (anthropic.NotFoundError, InternalError, errors_pb2.ERROR_REASON_MODEL_TABLE),
    (anthropic.RateLimitError, UpstreamUnavailable, errors_pb2.ERROR_REASON_UPSTREAM_RATE_LIMITED),
    (anthropic.InternalServerError, UpstreamUnavailable, None),  # 529 Overloaded and any >=500
)

# An ``event: error`` in the middle of a stream arrives as a bare APIStatusError with
# the HTTP status of the stream (200); its body's error type says what happened.
ERROR_TYPES: dict[str, tuple[type[DrafterError], int | None]] = {
    "invalid_request_error": (InvalidRequest, None),
    "request_too_large": (InvalidRequest, None),
    "authentication_error": (InternalError, errors_pb2.ERROR_REASON_UPSTREAM_AUTH),
    "permission_error": (InternalError, errors_pb2.ERROR_REASON_UPSTREAM_AUTH),
    "not_found_error": (InternalError, errors_pb2.ERROR_REASON_MODEL_TABLE),
    "rate_limit_error": (UpstreamUnavailable, errors_pb2.ERROR_REASON_UPSTREAM_RATE_LIMITED),
    "api_error": (UpstreamUnavailable, None),
    "overloaded_error": (UpstreamUnavailable, None),
    "timeout_error": (UpstreamTimeout, None),
}


def error_from_upstream(exc: anthropic.AnthropicError, upstream_model: str = "") -> DrafterError:
    """The Drafter error an upstream failure becomes; ``upstream_model`` is the id the
    request was sent with."""
    if isinstance(exc, anthropic.APITimeoutError):
        return UpstreamTimeout("The upstream model provider timed out.")
    if isinstance(exc, anthropic.APIConnectionError):
        return UpstreamUnavailable("The upstream model provider cannot be reached.")
    if isinstance(exc, anthropic.APIResponseValidationError):
        return UpstreamUnavailable("The upstream model provider sent an unreadable answer.")
    if not isinstance(exc, anthropic.APIStatusError):
        return InternalError(f"Upstream client error: {type(exc).__name__}")
    error_class, reason = _classify(exc)
    detail = exc.api_message or exc.type or f"status {exc.status_code}"
    if reason == errors_pb2.ERROR_REASON_MODEL_TABLE and detail.startswith(UNKNOWN_MODEL_PREFIX):
        return _unknown_upstream_model(upstream_model, detail)
    if reason == errors_pb2.ERROR_REASON_UPSTREAM_AUTH:
        log.error("the upstream refused the service's credentials (ANTHROPIC_API_KEY): %s", detail)
        return error_class(UPSTREAM_AUTH_MESSAGE, reason=reason)
    if reason == errors_pb2.ERROR_REASON_MODEL_TABLE:
        log.error("the upstream answered 404 (%s): check ANTHROPIC_BASE_URL", detail)
    message = detail if error_class is InvalidRequest else f"Upstream model provider: {detail}"
    return error_class(message, reason=reason, metadata=_retry_metadata(exc))


def _unknown_upstream_model(upstream_model: str, detail: str) -> ModelNotFound:
    model = upstream_model or detail.removeprefix(UNKNOWN_MODEL_PREFIX).strip()
    log.error(
        "the upstream does not serve the model id %r (it answered 404 %r): fix its row of "
        "the model table (DRAFTER_MODELS_FILE)",
        model,
        detail,
    )
    return ModelNotFound(
        f"The upstream model provider does not serve the model `{model}` ({detail}).",
        metadata={"param": "model", "upstream_model": model},
    )


def _classify(exc: anthropic.APIStatusError) -> tuple[type[DrafterError], int | None]:
    for exc_class, error_class, reason in STATUS_ERRORS:
        if isinstance(exc, exc_class):
            return error_class, reason
    if exc.status_code >= 500:
        return UpstreamUnavailable, None
    by_type = ERROR_TYPES.get(exc.type or "")
    if by_type is not None:
        return by_type
    return InternalError, None


def _retry_metadata(exc: anthropic.APIStatusError) -> dict[str, str]:
    """``retry_after_s`` (whole seconds, rounded up) when the upstream sent Retry-After."""
    headers = exc.response.headers
    seconds: float | None = None
    try:
        if "retry-after-ms" in headers:
            seconds = float(headers["retry-after-ms"]) / 1000
        elif "retry-after" in headers:
            seconds = float(headers["retry-after"])
    except ValueError:
        return {}
    if seconds is None or seconds < 0:
        return {}
    return {"retry_after_s": str(math.ceil(seconds))}
