"""The one gRPC → HTTP mapping (STYLE.md's table), the statuses the web pages and OAuth take
from it, reasons read back as the proto enum, and validation errors naming fields."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from drafter.common.v1 import errors_pb2
from drafter.edge.errors import api_error_from_remote, api_error_from_validation, page_failure
from drafter.rpc.errors import (
    ERROR_DOMAIN,
    STATUS_DETAILS_KEY,
    RemoteError,
    error_from_rpc,
    reason_from_name,
)

C = grpc.StatusCode
R = errors_pb2


@pytest.mark.parametrize(
    ("code", "reason", "status", "error_type", "openai_code"),
    [
        (C.INVALID_ARGUMENT, "INVALID_REQUEST", 400, "invalid_request_error", None),
        (C.FAILED_PRECONDITION, "PLAN_LIMIT", 400, "invalid_request_error", "plan_limit_reached"),
        (C.OUT_OF_RANGE, "", 400, "invalid_request_error", None),
        (C.NOT_FOUND, "MODEL_NOT_FOUND", 404, "invalid_request_error", "model_not_found"),
        (C.NOT_FOUND, "NOT_FOUND", 404, "not_found_error", None),
        (C.UNAUTHENTICATED, "INVALID_CREDENTIAL", 401, "authentication_error", "invalid_api_key"),
        (C.PERMISSION_DENIED, "MODEL_NOT_IN_PLAN", 403, "permission_error", "model_not_in_plan"),
        (C.PERMISSION_DENIED, "ACCOUNT_BLOCKED", 403, "permission_error", "account_deactivated"),
        (C.ALREADY_EXISTS, "ALREADY_EXISTS", 400, "invalid_request_error", None),
        (C.ABORTED, "", 400, "invalid_request_error", None),
        (C.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", 429, "rate_limit_error", "rate_limit_exceeded"),
        (C.RESOURCE_EXHAUSTED, "", 503, "overloaded_error", None),
        (C.UNAVAILABLE, "UPSTREAM_UNAVAILABLE", 503, "overloaded_error", "upstream_unavailable"),
        (C.UNAVAILABLE, "", 503, "overloaded_error", None),
        (C.DEADLINE_EXCEEDED, "", 503, "timeout_error", None),
        (C.INTERNAL, "UPSTREAM_AUTH", 500, "api_error", "upstream_auth_failed"),
        (C.UNKNOWN, "", 500, "api_error", None),
        (C.DATA_LOSS, "", 500, "api_error", None),
        (C.UNIMPLEMENTED, "", 500, "api_error", None),
    ],
)
def test_status_table(
    code: grpc.StatusCode, reason: str, status: int, error_type: str, openai_code: str | None
) -> None:
    err = api_error_from_remote(RemoteError(code, "boom", reason_from_name(reason)))
    assert (err.status, err.type) == (status, error_type)
    body = err.body()["error"]
    assert body == {
        "message": body["message"],
        "type": error_type,
        "param": None,
        "code": openai_code,
    }
    assert body["message"]


def test_an_upstream_refusal_the_operator_must_fix_keeps_its_words() -> None:
    message = "The upstream model provider rejected this server's credentials (invalid x-api-key)"
    err = api_error_from_remote(RemoteError(C.INTERNAL, message, R.ERROR_REASON_UPSTREAM_AUTH))
    assert err.message == message


def test_internal_details_never_reach_the_caller() -> None:
    err = api_error_from_remote(RemoteError(C.INTERNAL, "upstream key sk-secret rejected"))
    assert "sk-secret" not in err.message


def test_quota_carries_retry_after_and_no_retry_hint() -> None:
    remote = RemoteError(
        C.RESOURCE_EXHAUSTED,
        "Rate limit exceeded. Daily quota: 20/20 used.",
        R.ERROR_REASON_QUOTA_EXCEEDED,
        {"retry_after_s": "3600"},
    )
    err = api_error_from_remote(remote)
    assert err.headers == {"Retry-After": "3600", "x-should-retry": "false"}
    assert err.message == "Rate limit exceeded. Daily quota: 20/20 used."


@pytest.mark.parametrize(
    "reason", [R.ERROR_REASON_UPSTREAM_RATE_LIMITED, R.ERROR_REASON_UPSTREAM_UNAVAILABLE]
)
def test_upstream_failures_already_retried_tell_the_client_not_to_retry(reason: int) -> None:
    # The chat service made its 3 attempts: the SDK's own retries would multiply them.
    remote = RemoteError(C.UNAVAILABLE, "overloaded", reason, {"retry_after_s": "7"})
    assert api_error_from_remote(remote).headers == {"Retry-After": "7", "x-should-retry": "false"}


def test_unknown_model_names_the_param() -> None:
    remote = RemoteError(
        C.NOT_FOUND,
        "The model `x` does not exist.",
        R.ERROR_REASON_MODEL_NOT_FOUND,
        {"param": "model"},
    )
    assert api_error_from_remote(remote).body()["error"]["param"] == "model"


def test_too_large_payload_maps_to_413() -> None:
    remote = RemoteError(
        C.INVALID_ARGUMENT,
        "Image larger than 10 MB.",
        R.ERROR_REASON_PAYLOAD_TOO_LARGE,
        {"param": "image"},
    )
    err = api_error_from_remote(remote)
    assert (err.status, err.type, err.param, err.code) == (
        413,
        "invalid_request_error",
        "image",
        None,
    )
    assert err.message == "Image larger than 10 MB."


def test_metadata_no_longer_sets_the_status() -> None:
    remote = RemoteError(
        C.INVALID_ARGUMENT, "bad", R.ERROR_REASON_INVALID_REQUEST, {"http_status": "413"}
    )
    assert api_error_from_remote(remote).status == 400


class _FailedCall(grpc.RpcError):
    """A failed call as the edge receives it, its ErrorInfo naming ``reason``."""

    def __init__(self, reason: str) -> None:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN))
        status = status_pb2.Status(code=C.INVALID_ARGUMENT.value[0], details=[detail])
        self._status = status.SerializeToString()

    def code(self) -> grpc.StatusCode:
        return C.INVALID_ARGUMENT

    def details(self) -> str:
        return "bad"

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return ((STATUS_DETAILS_KEY, self._status),)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("QUOTA_EXCEEDED", R.ERROR_REASON_QUOTA_EXCEEDED),
        ("PAYLOAD_TOO_LARGE", R.ERROR_REASON_PAYLOAD_TOO_LARGE),
        ("UNSPECIFIED", R.ERROR_REASON_UNSPECIFIED),
        ("A_REASON_FROM_A_NEWER_PEER", R.ERROR_REASON_UNSPECIFIED),
    ],
)
def test_reasons_are_read_back_as_the_enum(name: str, reason: int) -> None:
    assert error_from_rpc(_FailedCall(name)).reason == reason


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        (C.INVALID_ARGUMENT, (400, "boom")),
        (C.FAILED_PRECONDITION, (400, "boom")),
        (C.ALREADY_EXISTS, (400, "boom")),
        (C.OUT_OF_RANGE, (400, "boom")),
        (C.PERMISSION_DENIED, (403, "boom")),
        (C.NOT_FOUND, (404, "boom")),
        (C.ABORTED, None),
        (C.UNAUTHENTICATED, None),
        (C.RESOURCE_EXHAUSTED, None),
        (C.UNAVAILABLE, None),
        (C.INTERNAL, None),
    ],
)
def test_pages_show_the_callers_failures_with_the_tables_status(
    code: grpc.StatusCode, shown: tuple[int, str] | None
) -> None:
    assert page_failure(RemoteError(code, "boom")) == shown
    assert page_failure(RemoteError(C.INVALID_ARGUMENT, "")) == (400, "That did not work.")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            {"type": "missing", "loc": ("body", "model"), "msg": "Field required"},
            "Missing required parameter: 'model'.",
        ),
        (
            {"type": "extra_forbidden", "loc": ("body", "foo"), "msg": "Extra inputs"},
            "Unrecognized request argument supplied: foo",
        ),
        (
            {"type": "int_parsing", "loc": ("body", "n"), "msg": "Input should be a valid integer"},
            "Invalid value for 'n': Input should be a valid integer.",
        ),
        (
            {"type": "json_invalid", "loc": ("body", 1), "msg": "JSON decode error"},
            "We could not parse the JSON body of your request.",
        ),
    ],
)
def test_validation_errors_name_the_field(error: dict, message: str) -> None:
    err = api_error_from_validation([error])
    assert err.status == 400 and err.message == message
