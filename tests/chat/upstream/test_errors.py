"""The anthropic SDK exception → DrafterError table, exception by exception."""

from __future__ import annotations

import logging
from typing import Any

import anthropic
import grpc
import httpx2
import pytest

from drafter.rpc.errors import reason_name
from drafter.services.chat.upstream.errors import error_from_upstream

REQUEST = httpx2.Request("POST", "http://upstream.test/v1/messages")


def status_error(
    exc_class: type[anthropic.APIStatusError],
    status: int,
    error_type: str,
    headers: dict[str, str] | None = None,
    message: str = "",
) -> anthropic.APIStatusError:
    message = message or f"upstream says {status}"
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    response = httpx2.Response(status, headers=headers or {}, json=body, request=REQUEST)
    return exc_class(f"Error code: {status}", response=response, body=body)


OK = grpc.StatusCode
CASES: list[tuple[str, Exception, grpc.StatusCode, str]] = [
    ("400", status_error(anthropic.BadRequestError, 400, "invalid_request_error"),
     OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("413", status_error(anthropic.RequestTooLargeError, 413, "request_too_large"),
     OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("422", status_error(anthropic.UnprocessableEntityError, 422, "invalid_request_error"),
     OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("401", status_error(anthropic.AuthenticationError, 401, "authentication_error"),
     OK.INTERNAL, "UPSTREAM_AUTH"),
    ("403", status_error(anthropic.PermissionDeniedError, 403, "permission_error"),
     OK.INTERNAL, "UPSTREAM_AUTH"),
    ("404 not the model", status_error(anthropic.NotFoundError, 404, "not_found_error"),
     OK.INTERNAL, "MODEL_TABLE"),
    ("404 model", status_error(anthropic.NotFoundError, 404, "not_found_error",
                               message="model: claude-haiku-4-5-20250506"),
     OK.NOT_FOUND, "MODEL_NOT_FOUND"),
    ("429", status_error(anthropic.RateLimitError, 429, "rate_limit_error"),
     OK.UNAVAILABLE, "UPSTREAM_RATE_LIMITED"),
    ("500", status_error(anthropic.InternalServerError, 500, "api_error"),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("503", status_error(anthropic.ServiceUnavailableError, 503, "api_error"),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("529", status_error(anthropic.OverloadedError, 529, "overloaded_error"),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("timeout", anthropic.APITimeoutError(request=REQUEST),
     OK.DEADLINE_EXCEEDED, "UPSTREAM_UNAVAILABLE"),
    ("connection", anthropic.APIConnectionError(request=REQUEST),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("mid-stream overloaded", status_error(anthropic.APIStatusError, 200, "overloaded_error"),
     OK.UNAVAILABLE, "UPSTREAM_UNAVAILABLE"),
    ("mid-stream invalid", status_error(anthropic.APIStatusError, 200, "invalid_request_error"),
     OK.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ("mid-stream unknown", status_error(anthropic.APIStatusError, 200, "brand_new_error"),
     OK.INTERNAL, "UNSPECIFIED"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("exc", "code", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_from_upstream(
    exc: anthropic.AnthropicError, code: grpc.StatusCode, reason: str
) -> None:
    error = error_from_upstream(exc)

    assert (error.code, reason_name(error.reason)) == (code, reason)


def test_caller_mistakes_keep_the_upstream_message() -> None:
    error = error_from_upstream(status_error(anthropic.BadRequestError, 400, "x"))

    assert error.message == "upstream says 400"


def test_our_credential_problems_do_not_echo_the_upstream_message() -> None:
    error = error_from_upstream(status_error(anthropic.AuthenticationError, 401, "x"))

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
    error = error_from_upstream(
        status_error(anthropic.RateLimitError, 429, "rate_limit_error", headers)
    )

    assert error.metadata == expected


def test_an_unknown_upstream_model_names_the_id_and_tells_the_operator(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exc = status_error(anthropic.NotFoundError, 404, "not_found_error", message="model: claude-x")

    with caplog.at_level(logging.ERROR, logger="drafter.chat"):
        error = error_from_upstream(exc, "claude-x")

    assert "`claude-x`" in error.message and "model: claude-x" in error.message
    assert error.metadata == {"param": "model", "upstream_model": "claude-x"}
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "claude-x" in record.getMessage() and "DRAFTER_MODELS_FILE" in record.getMessage()
