import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UsageKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_KIND_UNSPECIFIED: _ClassVar[UsageKind]
    USAGE_KIND_CHAT: _ClassVar[UsageKind]
    USAGE_KIND_IMAGE_GEN: _ClassVar[UsageKind]
    USAGE_KIND_IMAGE_EDIT: _ClassVar[UsageKind]
    USAGE_KIND_API_CALL: _ClassVar[UsageKind]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_SUCCEEDED: _ClassVar[Outcome]
    OUTCOME_REJECTED: _ClassVar[Outcome]
    OUTCOME_FAILED: _ClassVar[Outcome]
    OUTCOME_CANCELLED: _ClassVar[Outcome]
USAGE_KIND_UNSPECIFIED: UsageKind
USAGE_KIND_CHAT: UsageKind
USAGE_KIND_IMAGE_GEN: UsageKind
USAGE_KIND_IMAGE_EDIT: UsageKind
USAGE_KIND_API_CALL: UsageKind
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_SUCCEEDED: Outcome
OUTCOME_REJECTED: Outcome
OUTCOME_FAILED: Outcome
OUTCOME_CANCELLED: Outcome

class Caller(_message.Message):
    __slots__ = ("user_id", "plan", "credential_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    plan: str
    credential_id: str
    def __init__(self, user_id: _Optional[str] = ..., plan: _Optional[str] = ..., credential_id: _Optional[str] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "reasoning_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., cache_read_input_tokens: _Optional[int] = ..., cache_creation_input_tokens: _Optional[int] = ...) -> None: ...

class AuthorizeRequest(_message.Message):
    __slots__ = ("credential", "kind", "model", "units")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    credential: str
    kind: UsageKind
    model: str
    units: int
    def __init__(self, credential: _Optional[str] = ..., kind: _Optional[_Union[UsageKind, str]] = ..., model: _Optional[str] = ..., units: _Optional[int] = ...) -> None: ...

class AuthorizeResponse(_message.Message):
    __slots__ = ("caller", "reservation_id", "model")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    caller: Caller
    reservation_id: str
    model: str
    def __init__(self, caller: _Optional[_Union[Caller, _Mapping]] = ..., reservation_id: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class SettleRequest(_message.Message):
    __slots__ = ("reservation_id", "outcome", "units_used", "usage", "latency_ms")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    UNITS_USED_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    outcome: Outcome
    units_used: int
    usage: TokenUsage
    latency_ms: int
    def __init__(self, reservation_id: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., units_used: _Optional[int] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ..., latency_ms: _Optional[int] = ...) -> None: ...

class SettleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: str
    def __init__(self, credential: _Optional[str] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("id", "owned_by", "created")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    owned_by: str
    created: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owned_by: _Optional[str] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("email", "plan", "password")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    email: str
    plan: str
    password: str
    def __init__(self, email: _Optional[str] = ..., plan: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class SetUserPlanRequest(_message.Message):
    __slots__ = ("email", "plan")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    email: str
    plan: str
    def __init__(self, email: _Optional[str] = ..., plan: _Optional[str] = ...) -> None: ...

class SetUserPlanResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("email", "name")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    email: str
    name: str
    def __init__(self, email: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("key_id", "secret", "prefix")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    secret: str
    prefix: str
    def __init__(self, key_id: _Optional[str] = ..., secret: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...

class CheckDatabaseRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckDatabaseResponse(_message.Message):
    __slots__ = ("backend", "latency_ms")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    backend: str
    latency_ms: float
    def __init__(self, backend: _Optional[str] = ..., latency_ms: _Optional[float] = ...) -> None: ...
