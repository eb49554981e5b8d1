import datetime

from drafter.common.v1 import usage_pb2 as _usage_pb2
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
    OUTCOME_ABANDONED: _ClassVar[Outcome]
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
OUTCOME_ABANDONED: Outcome

class Caller(_message.Message):
    __slots__ = ("user_id", "plan", "credential_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    plan: str
    credential_id: str
    def __init__(self, user_id: _Optional[str] = ..., plan: _Optional[str] = ..., credential_id: _Optional[str] = ...) -> None: ...

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
    usage: _usage_pb2.TokenUsage
    latency_ms: int
    def __init__(self, reservation_id: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., units_used: _Optional[int] = ..., usage: _Optional[_Union[_usage_pb2.TokenUsage, _Mapping]] = ..., latency_ms: _Optional[int] = ...) -> None: ...

class SettleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SettleManyRequest(_message.Message):
    __slots__ = ("settlements",)
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    settlements: _containers.RepeatedCompositeFieldContainer[SettleRequest]
    def __init__(self, settlements: _Optional[_Iterable[_Union[SettleRequest, _Mapping]]] = ...) -> None: ...

class SettleManyResponse(_message.Message):
    __slots__ = ("failures",)
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    failures: _containers.RepeatedCompositeFieldContainer[SettleFailure]
    def __init__(self, failures: _Optional[_Iterable[_Union[SettleFailure, _Mapping]]] = ...) -> None: ...

class SettleFailure(_message.Message):
    __slots__ = ("index", "message")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    index: int
    message: str
    def __init__(self, index: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("email", "name", "user_id")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    email: str
    name: str
    user_id: str
    def __init__(self, email: _Optional[str] = ..., name: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

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

class UsageCounts(_message.Message):
    __slots__ = ("chat", "image_gen", "image_edit")
    CHAT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_GEN_FIELD_NUMBER: _ClassVar[int]
    IMAGE_EDIT_FIELD_NUMBER: _ClassVar[int]
    chat: int
    image_gen: int
    image_edit: int
    def __init__(self, chat: _Optional[int] = ..., image_gen: _Optional[int] = ..., image_edit: _Optional[int] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("credential",)
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    credential: str
    def __init__(self, credential: _Optional[str] = ...) -> None: ...

class GetUsageResponse(_message.Message):
    __slots__ = ("plan", "today", "api_calls", "tokens", "limits", "remaining", "reset_in_s", "cache_read_tokens", "cache_creation_tokens")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TODAY_FIELD_NUMBER: _ClassVar[int]
    API_CALLS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    RESET_IN_S_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    plan: str
    today: UsageCounts
    api_calls: int
    tokens: int
    limits: UsageCounts
    remaining: UsageCounts
    reset_in_s: int
    cache_read_tokens: int
    cache_creation_tokens: int
    def __init__(self, plan: _Optional[str] = ..., today: _Optional[_Union[UsageCounts, _Mapping]] = ..., api_calls: _Optional[int] = ..., tokens: _Optional[int] = ..., limits: _Optional[_Union[UsageCounts, _Mapping]] = ..., remaining: _Optional[_Union[UsageCounts, _Mapping]] = ..., reset_in_s: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., cache_creation_tokens: _Optional[int] = ...) -> None: ...

class GetUsageHistoryRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class DayUsage(_message.Message):
    __slots__ = ("day", "kind", "requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
    DAY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_CREATION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    day: str
    kind: UsageKind
    requests: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    def __init__(self, day: _Optional[str] = ..., kind: _Optional[_Union[UsageKind, str]] = ..., requests: _Optional[int] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., cache_creation_tokens: _Optional[int] = ...) -> None: ...

class GetUsageHistoryResponse(_message.Message):
    __slots__ = ("days",)
    DAYS_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedCompositeFieldContainer[DayUsage]
    def __init__(self, days: _Optional[_Iterable[_Union[DayUsage, _Mapping]]] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("key_id", "name", "prefix", "created_at", "last_used_at")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    name: str
    prefix: str
    created_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., name: _Optional[str] = ..., prefix: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ...) -> None: ...

class RenameApiKeyRequest(_message.Message):
    __slots__ = ("user_id", "key_id", "name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    key_id: str
    name: str
    def __init__(self, user_id: _Optional[str] = ..., key_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RenameApiKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("user_id", "key_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    key_id: str
    def __init__(self, user_id: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetUserBlockedRequest(_message.Message):
    __slots__ = ("email", "blocked")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    email: str
    blocked: bool
    def __init__(self, email: _Optional[str] = ..., blocked: _Optional[bool] = ...) -> None: ...

class SetUserBlockedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateDiscountCodeRequest(_message.Message):
    __slots__ = ("plan", "days", "max_uses")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    MAX_USES_FIELD_NUMBER: _ClassVar[int]
    plan: str
    days: int
    max_uses: int
    def __init__(self, plan: _Optional[str] = ..., days: _Optional[int] = ..., max_uses: _Optional[int] = ...) -> None: ...

class CreateDiscountCodeResponse(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class RedeemDiscountCodeRequest(_message.Message):
    __slots__ = ("user_id", "code")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    code: str
    def __init__(self, user_id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class RedeemDiscountCodeResponse(_message.Message):
    __slots__ = ("plan", "expires_at")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    plan: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, plan: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
