"""The one table from upstream failures (``exceptions``) to :class:`DrafterError`.
Applied after the bounded retries (``retry``); the edge refunds the caller's reservation
on every one of these.

Every upstream refusal keeps the upstream's own words. The two that are the operator's
to fix, not the caller's (the upstream does not know a model id of the model table, or
refuses the service's credentials), are also logged at error level, once per request.
"""

from __future__ import annotations

import logging
import math

from drafter.common.v1 import errors_pb2
from drafter.model_table import ModelNotFound
from drafter.rpc.errors import (
    DrafterError,
    InternalError,
    InvalidRequest,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from drafter.services.chat.upstream.exceptions import (
    UnreadableAnswer,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from drafter.services.chat.upstream.retry import retry_after_s

log = logging.getLogger("drafter.chat")

# The caller learns whose problem it is; the upstream's words go to the operator's log.
UPSTREAM_AUTH_MESSAGE = (
    "The upstream model provider rejected this server's credentials; the operator must fix them."
)
# The live API's 404 for an id it does not serve says "model: <id>".
UNKNOWN_MODEL_PREFIX = "model:"

Outcome = tuple[type[DrafterError], int | None]  # the error raised, its reason (None: its own)
_AUTH = errors_pb2.ERROR_REASON_UPSTREAM_AUTH
_MODEL_TABLE = errors_pb2.ERROR_REASON_MODEL_TABLE
_RATE_LIMITED = errors_pb2.ERROR_REASON_UPSTREAM_RATE_LIMITED

# The upstream's refusals: the statuses and the API's error type each row stands for, and
# what it becomes. An error status is classified by the status (any other from 500 up as
# ``api_error``); an ``error`` event in the middle of a stream (status 200) and a status no
# row names (402, 408, 409...) by the error type; anything else is INTERNAL.
STATUS_ERRORS: tuple[tuple[tuple[int, ...], str, type[DrafterError], int | None], ...] = (
    ((400, 422), "invalid_request_error", InvalidRequest, None),
    ((413,), "request_too_large", InvalidRequest, None),
    ((401,), "authentication_error", InternalError, _AUTH),
    ((403,), "permission_error", InternalError, _AUTH),
    ((404,), "not_found_error", InternalError, _MODEL_TABLE),
    ((429,), "rate_limit_error", UpstreamUnavailable, _RATE_LIMITED),
    ((500,), "api_error", UpstreamUnavailable, None),
    ((529,), "overloaded_error", UpstreamUnavailable, None),
    ((), "timeout_error", UpstreamTimeout, None),
)
_BY_STATUS: dict[int, Outcome] = {
    status: (error, reason) for statuses, _, error, reason in STATUS_ERRORS for status in statuses
}
_BY_TYPE: dict[str, Outcome] = {kind: (error, reason) for _, kind, error, reason in STATUS_ERRORS}


def error_from_upstream(exc: UpstreamError, upstream_model: str = "") -> DrafterError:
    """The Drafter error an upstream failure becomes; ``upstream_model`` is the id the
    request was sent with."""
    if isinstance(exc, UpstreamTimeoutError):
        return UpstreamTimeout("The upstream model provider timed out.")
    if isinstance(exc, UpstreamConnectionError):
        return UpstreamUnavailable("The upstream model provider cannot be reached.")
    if isinstance(exc, UnreadableAnswer):
        return UpstreamUnavailable("The upstream model provider sent an unreadable answer.")
    if not isinstance(exc, UpstreamStatusError):
        return InternalError(f"Upstream client error: {exc}")
    error_class, reason = _classify(exc)
    detail = exc.api_message or exc.error_type or f"status {exc.status_code}"
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


def _classify(exc: UpstreamStatusError) -> Outcome:
    """The row ``exc`` falls under (``STATUS_ERRORS``); INTERNAL when none."""
    status = exc.status_code
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    kind = "api_error" if status >= 500 else exc.error_type or ""
    return _BY_TYPE.get(kind, (InternalError, None))


def _retry_metadata(exc: UpstreamStatusError) -> dict[str, str]:
    """``retry_after_s`` (whole seconds, rounded up) when the upstream asked for a wait
    (``retry-after-ms`` or ``retry-after``, as the retries read them)."""
    seconds = retry_after_s(exc.headers)
    if seconds is None or not 0 <= seconds < math.inf:
        return {}
    return {"retry_after_s": str(math.ceil(seconds))}
