"""The upstream failure → DrafterError table, failure by failure."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest

from drafter.rpc.errors import reason_name
from drafter.services.chat.upstream.errors import error_from_upstream
from drafter.services.chat.upstream.exceptions import (
    UnreadableAnswer,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)


def status_error(
    status: int,
    error_type: str,
    headers: dict[str, str] | None = None,
    message: str = "",
) -> UpstreamStatusError:
    message = message or f"upstream says {status}"
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return UpstreamStatusError(status, body, headers)


OK = grpc.StatusCode
CASES: list[tuple[str, UpstreamError, grpc.StatusCode, str]] = [
    ("400", status_error(400, "invalid_request_error"), OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("413", status_error(413, "request_too_large"), OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("422", status_error(422, "invalid_request_error"), OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("401", status_error(401, "authentication_error"), OK.INTERNAL, "UPSTREAM_AUTH"),
    ("403", status_error(403, "permission_error"), OK.INTERNAL, "UPSTREAM_AUTH"),
    ("404 not the model", status_error(404, "not_found_error"), OK.INTERNAL, "MODEL_TABLE"),
    ("404 model", status_error(404, "not_found_error", message="model: claude-haiku-4-5-20250506"),
     OK.NOT_FOUND, "MODEL_NOT_FOUND"),
    ("429", status_error(429, "rate_limit_error"), OK.UNAVAILABLE, "UPSTREAM_RATE_LIMITED"),
    ("500", status_error(500, "api_error"), OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("503", status_error(503, "api_error"), OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("504 timeout type", status_error(504, "timeout_error"),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("529", status_error(529, "overloaded_error"), OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("5xx without a body", UpstreamStatusError(502, "<html>bad gateway</html>"),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("402 by its type", status_error(402, "billing_error"), OK.INTERNAL, "UNSPECIFIED"),
    ("408 by its type", status_error(408, "timeout_error"), OK.DEADLINE_EXCEEDED,
     "UPSTREAM_UNAVAILABLE"),
    ("timeout", UpstreamTimeoutError("late"), OK.DEADLINE_EXCEEDED, "UPSTREAM_UNAVAILABLE"),
    ("connection", UpstreamConnectionError("refused"), OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("unreadable", UnreadableAnswer("<html>"), OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("credential machinery", UpstreamError("the anthropic SDK raised CredentialsError"),
     OK.INTERNAL, "UNSPECIFIED"),
    ("mid-stream overloaded", status_error(200, "overloaded_error"),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("mid-stream invalid", status_error(200, "invalid_request_error"),
     OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("mid-stream unknown", status_error(200, "brand_new_error"), OK.INTERNAL, "UNSPECIFIED"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("exc", "code", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_from_upstream(exc: UpstreamError, code: grpc.StatusCode, reason: str) -> None:
    error = error_from_upstream(exc)

    assert (error.code, reason_name(error.reason)) == (code, reason)


def test_caller_mistakes_keep_the_upstream_message() -> None:
    error = error_from_upstream(status_error(400, "x"))

    assert error.message == "upstream says 400"


def test_our_credential_problems_do_not_echo_the_upstream_message() -> None:
    error = error_from_upstream(status_error(401, "x"))

    assert "upstream says" not in error.message


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "30"}, {"retry_after_s": "30"}),
        ({"retry-after": "1.2"}, {"retry_after_s": "2"}),
        ({"retry-after-ms": "1500", "retry-after": "9"}, {"retry_after_s": "2"}),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, {}),
        ({}, {}),
    ],
)
def test_retry_after_is_passed_on(headers: dict[str, str], expected: dict[str, Any]) -> None:
    error = error_from_upstream(status_error(429, "rate_limit_error", headers))

    assert error.metadata == expected


def test_an_unknown_upstream_model_names_the_id_and_tells_the_operator(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exc = status_error(404, "not_found_error", message="model: claude-x")

    with caplog.at_level(logging.ERROR, logger="drafter.chat"):
        error = error_from_upstream(exc, "claude-x")

    assert "`claude-x`" in error.message and "model: claude-x" in error.message
    assert error.metadata == {"param": "model", "upstream_model": "claude-x"}
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "claude-x" in record.getMessage() and "DRAFTER_MODELS_FILE" in record.getMessage()
