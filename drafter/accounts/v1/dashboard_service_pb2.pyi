import datetime

from drafter.accounts.v1 import accounts_service_pb2 as _accounts_service_pb2
from drafter.accounts.v1 import oauth_service_pb2 as _oauth_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Plan(_message.Message):
    __slots__ = ("key", "name", "price_eur_per_week", "models", "max_api_keys", "max_apps", "limits")
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_EUR_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_API_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAX_APPS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    key: str
    name: str
    price_eur_per_week: str
    models: _containers.RepeatedScalarFieldContainer[str]
    max_api_keys: int
    max_apps: int
    limits: _accounts_service_pb2.UsageCounts
    def __init__(self, key: _Optional[str] = ..., name: _Optional[str] = ..., price_eur_per_week: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., max_api_keys: _Optional[int] = ..., max_apps: _Optional[int] = ..., limits: _Optional[_Union[_accounts_service_pb2.UsageCounts, _Mapping]] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[Plan]
    def __init__(self, plans: _Optional[_Iterable[_Union[Plan, _Mapping]]] = ...) -> None: ...

class GetAccountUsageRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetAccountUsageResponse(_message.Message):
    __slots__ = ("plan", "today", "api_calls", "input_tokens", "output_tokens", "reset_in_s", "history", "plan_expires_at", "today_date")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TODAY_FIELD_NUMBER: _ClassVar[int]
    API_CALLS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    RESET_IN_S_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    PLAN_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TODAY_DATE_FIELD_NUMBER: _ClassVar[int]
    plan: Plan
    today: _accounts_service_pb2.UsageCounts
    api_calls: int
    input_tokens: int
    output_tokens: int
    reset_in_s: int
    history: _containers.RepeatedCompositeFieldContainer[_accounts_service_pb2.DayUsage]
    plan_expires_at: _timestamp_pb2.Timestamp
    today_date: str
    def __init__(self, plan: _Optional[_Union[Plan, _Mapping]] = ..., today: _Optional[_Union[_accounts_service_pb2.UsageCounts, _Mapping]] = ..., api_calls: _Optional[int] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., reset_in_s: _Optional[int] = ..., history: _Optional[_Iterable[_Union[_accounts_service_pb2.DayUsage, _Mapping]]] = ..., plan_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., today_date: _Optional[str] = ...) -> None: ...

class UpdateAppRequest(_message.Message):
    __slots__ = ("user_id", "client_id", "name", "redirect_uris", "homepage")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    HOMEPAGE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    client_id: str
    name: str
    redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    homepage: str
    def __init__(self, user_id: _Optional[str] = ..., client_id: _Optional[str] = ..., name: _Optional[str] = ..., redirect_uris: _Optional[_Iterable[str]] = ..., homepage: _Optional[str] = ...) -> None: ...

class UpdateAppResponse(_message.Message):
    __slots__ = ("app",)
    APP_FIELD_NUMBER: _ClassVar[int]
    app: _oauth_service_pb2.App
    def __init__(self, app: _Optional[_Union[_oauth_service_pb2.App, _Mapping]] = ...) -> None: ...

class TicketReply(_message.Message):
    __slots__ = ("author", "message", "created_at")
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    author: str
    message: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, author: _Optional[str] = ..., message: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("ticket_id", "subject", "message", "status", "created_at", "updated_at", "replies")
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    subject: str
    message: str
    status: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    replies: _containers.RepeatedCompositeFieldContainer[TicketReply]
    def __init__(self, ticket_id: _Optional[str] = ..., subject: _Optional[str] = ..., message: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replies: _Optional[_Iterable[_Union[TicketReply, _Mapping]]] = ...) -> None: ...

class CreateTicketRequest(_message.Message):
    __slots__ = ("user_id", "subject", "message")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    subject: str
    message: str
    def __init__(self, user_id: _Optional[str] = ..., subject: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CreateTicketResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: Ticket
    def __init__(self, ticket: _Optional[_Union[Ticket, _Mapping]] = ...) -> None: ...

class ListTicketsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListTicketsResponse(_message.Message):
    __slots__ = ("tickets",)
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    tickets: _containers.RepeatedCompositeFieldContainer[Ticket]
    def __init__(self, tickets: _Optional[_Iterable[_Union[Ticket, _Mapping]]] = ...) -> None: ...

class AnswerTicketRequest(_message.Message):
    __slots__ = ("user_id", "ticket_id", "message")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    ticket_id: str
    message: str
    def __init__(self, user_id: _Optional[str] = ..., ticket_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class AnswerTicketResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: Ticket
    def __init__(self, ticket: _Optional[_Union[Ticket, _Mapping]] = ...) -> None: ...

class DeleteAccountRequest(_message.Message):
    __slots__ = ("user_id", "password")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    password: str
    def __init__(self, user_id: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class DeleteAccountResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
