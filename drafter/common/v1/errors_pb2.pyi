from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_REQUEST: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_CREDENTIAL: _ClassVar[ErrorReason]
    ERROR_REASON_ACCOUNT_BLOCKED: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_NOT_IN_PLAN: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_QUOTA_EXCEEDED: _ClassVar[ErrorReason]
    ERROR_REASON_UPSTREAM_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_UPSTREAM_RATE_LIMITED: _ClassVar[ErrorReason]
    ERROR_REASON_UPSTREAM_AUTH: _ClassVar[ErrorReason]
    ERROR_REASON_MODEL_TABLE: _ClassVar[ErrorReason]
    ERROR_REASON_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_ALREADY_EXISTS: _ClassVar[ErrorReason]
    ERROR_REASON_PLAN_LIMIT: _ClassVar[ErrorReason]
    ERROR_REASON_INSUFFICIENT_SCOPE: _ClassVar[ErrorReason]
    ERROR_REASON_PAYLOAD_TOO_LARGE: _ClassVar[ErrorReason]
    ERROR_REASON_WARMING_UP: _ClassVar[ErrorReason]
    ERROR_REASON_DATABASE_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_UPSTREAM_TIMEOUT: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_INVALID_REQUEST: ErrorReason
ERROR_REASON_INVALID_CREDENTIAL: ErrorReason
ERROR_REASON_ACCOUNT_BLOCKED: ErrorReason
ERROR_REASON_MODEL_NOT_IN_PLAN: ErrorReason
ERROR_REASON_MODEL_NOT_FOUND: ErrorReason
ERROR_REASON_QUOTA_EXCEEDED: ErrorReason
ERROR_REASON_UPSTREAM_UNAVAILABLE: ErrorReason
ERROR_REASON_UPSTREAM_RATE_LIMITED: ErrorReason
ERROR_REASON_UPSTREAM_AUTH: ErrorReason
ERROR_REASON_MODEL_TABLE: ErrorReason
ERROR_REASON_NOT_FOUND: ErrorReason
ERROR_REASON_ALREADY_EXISTS: ErrorReason
ERROR_REASON_PLAN_LIMIT: ErrorReason
ERROR_REASON_INSUFFICIENT_SCOPE: ErrorReason
ERROR_REASON_PAYLOAD_TOO_LARGE: ErrorReason
ERROR_REASON_WARMING_UP: ErrorReason
ERROR_REASON_DATABASE_UNAVAILABLE: ErrorReason
ERROR_REASON_UPSTREAM_TIMEOUT: ErrorReason
