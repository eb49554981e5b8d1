"""The Drafter error hierarchy and its one mapping to and from rich gRPC statuses.

Domain code raises a :class:`DrafterError` subclass; the server interceptor turns it
into a ``google.rpc.Status`` with an ``ErrorInfo`` detail (reason + metadata). Callers
read it back with :func:`error_from_rpc`, so the reason survives the hop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from drafter.common.v1 import errors_pb2

ERROR_DOMAIN = "drafter"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
_REASON_PREFIX = "ERROR_REASON_"


def reason_name(reason: int) -> str:
    """``ERROR_REASON_QUOTA_EXCEEDED`` → ``QUOTA_EXCEEDED``."""
    return str(errors_pb2.ErrorReason.Name(reason)).removeprefix(_REASON_PREFIX)


def reason_from_name(name: str) -> int:
    """``QUOTA_EXCEEDED`` → ``ERROR_REASON_QUOTA_EXCEEDED``; a name this build does not
    know (a newer peer's) is ``ERROR_REASON_UNSPECIFIED``."""
    try:
        return int(errors_pb2.ErrorReason.Value(_REASON_PREFIX + name))
    except ValueError:
        return errors_pb2.ERROR_REASON_UNSPECIFIED


class DrafterError(Exception):
    """Base of every error a Drafter service raises on purpose."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: int = errors_pb2.ERROR_REASON_UNSPECIFIED

    def __init__(
        self, message: str, *, reason: int | None = None, metadata: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata = metadata or {}

    def to_status_proto(self) -> status_pb2.Status:
        info = error_details_pb2.ErrorInfo(
            reason=reason_name(self.reason), domain=ERROR_DOMAIN, metadata=self.metadata
        )
        detail = any_pb2.Any()
        detail.Pack(info)
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=[detail])


class InvalidRequest(DrafterError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = errors_pb2.ERROR_REASON_INVALID_REQUEST


class Unauthenticated(DrafterError):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = errors_pb2.ERROR_REASON_INVALID_CREDENTIAL


class PermissionDenied(DrafterError):
    code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(DrafterError):
    code = grpc.StatusCode.NOT_FOUND
    reason = errors_pb2.ERROR_REASON_NOT_FOUND


class AlreadyExists(DrafterError):
    code = grpc.StatusCode.ALREADY_EXISTS
    reason = errors_pb2.ERROR_REASON_ALREADY_EXISTS


class QuotaExceeded(DrafterError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = errors_pb2.ERROR_REASON_QUOTA_EXCEEDED


class UpstreamUnavailable(DrafterError):
    code = grpc.StatusCode.UNAVAILABLE
    reason = errors_pb2.ERROR_REASON_UPSTREAM_UNAVAILABLE


class UpstreamTimeout(DrafterError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = errors_pb2.ERROR_REASON_UPSTREAM_UNAVAILABLE


class InternalError(DrafterError):
    code = grpc.StatusCode.INTERNAL


@dataclass(frozen=True, slots=True)
class RemoteError:
    """A failed RPC as the caller sees it: status, message, reason (an
    ``errors_pb2.ErrorReason`` value, as on :class:`DrafterError`) and metadata."""

    code: grpc.StatusCode
    message: str
    reason: int = errors_pb2.ERROR_REASON_UNSPECIFIED
    metadata: dict[str, str] = field(default_factory=dict)


def error_from_rpc(err: grpc.RpcError) -> RemoteError:
    """Reads the status, and the ErrorInfo detail when there is one, of a failed call."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    message = (err.details() if hasattr(err, "details") else None) or ""
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailing or ():
        if key != STATUS_DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.domain == ERROR_DOMAIN:
                reason = reason_from_name(info.reason)
                return RemoteError(code, message, reason, dict(info.metadata))
    return RemoteError(code, message)
