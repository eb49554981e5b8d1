import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StoreResponseRequest(_message.Message):
    __slots__ = ("credential", "response_id", "previous_response_id", "response_json", "input_items_json", "conversation_json", "instructions")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    INPUT_ITEMS_JSON_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_JSON_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    credential: str
    response_id: str
    previous_response_id: str
    response_json: bytes
    input_items_json: bytes
    conversation_json: bytes
    instructions: str
    def __init__(self, credential: _Optional[str] = ..., response_id: _Optional[str] = ..., previous_response_id: _Optional[str] = ..., response_json: _Optional[bytes] = ..., input_items_json: _Optional[bytes] = ..., conversation_json: _Optional[bytes] = ..., instructions: _Optional[str] = ...) -> None: ...

class StoreResponseResponse(_message.Message):
    __slots__ = ("expires_at",)
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetResponseRequest(_message.Message):
    __slots__ = ("credential", "response_id", "continuation")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTINUATION_FIELD_NUMBER: _ClassVar[int]
    credential: str
    response_id: str
    continuation: bool
    def __init__(self, credential: _Optional[str] = ..., response_id: _Optional[str] = ..., continuation: _Optional[bool] = ...) -> None: ...

class GetResponseResponse(_message.Message):
    __slots__ = ("response_json", "input_items_json", "conversation_json", "previous_response_id", "created_at", "instructions")
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    INPUT_ITEMS_JSON_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_JSON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    response_json: bytes
    input_items_json: bytes
    conversation_json: bytes
    previous_response_id: str
    created_at: _timestamp_pb2.Timestamp
    instructions: str
    def __init__(self, response_json: _Optional[bytes] = ..., input_items_json: _Optional[bytes] = ..., conversation_json: _Optional[bytes] = ..., previous_response_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., instructions: _Optional[str] = ...) -> None: ...

class DeleteResponseRequest(_message.Message):
    __slots__ = ("credential", "response_id")
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    credential: str
    response_id: str
    def __init__(self, credential: _Optional[str] = ..., response_id: _Optional[str] = ...) -> None: ...

class DeleteResponseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
