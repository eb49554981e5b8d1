import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class App(_message.Message):
    __slots__ = ("client_id", "name", "redirect_uris", "homepage", "created_at")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    HOMEPAGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    name: str
    redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    homepage: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, client_id: _Optional[str] = ..., name: _Optional[str] = ..., redirect_uris: _Optional[_Iterable[str]] = ..., homepage: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Connection(_message.Message):
    __slots__ = ("client_id", "app_name", "scopes", "first_authorized_at", "last_used_at")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    APP_NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    FIRST_AUTHORIZED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    app_name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    first_authorized_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    def __init__(self, client_id: _Optional[str] = ..., app_name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., first_authorized_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAppRequest(_message.Message):
    __slots__ = ("email", "user_id", "name", "redirect_uris", "homepage")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URIS_FIELD_NUMBER: _ClassVar[int]
    HOMEPAGE_FIELD_NUMBER: _ClassVar[int]
    email: str
    user_id: str
    name: str
    redirect_uris: _containers.RepeatedScalarFieldContainer[str]
    homepage: str
    def __init__(self, email: _Optional[str] = ..., user_id: _Optional[str] = ..., name: _Optional[str] = ..., redirect_uris: _Optional[_Iterable[str]] = ..., homepage: _Optional[str] = ...) -> None: ...

class CreateAppResponse(_message.Message):
    __slots__ = ("app", "client_secret")
    APP_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    app: App
    client_secret: str
    def __init__(self, app: _Optional[_Union[App, _Mapping]] = ..., client_secret: _Optional[str] = ...) -> None: ...

class ListAppsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListAppsResponse(_message.Message):
    __slots__ = ("apps",)
    APPS_FIELD_NUMBER: _ClassVar[int]
    apps: _containers.RepeatedCompositeFieldContainer[App]
    def __init__(self, apps: _Optional[_Iterable[_Union[App, _Mapping]]] = ...) -> None: ...

class RotateAppSecretRequest(_message.Message):
    __slots__ = ("user_id", "client_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    client_id: str
    def __init__(self, user_id: _Optional[str] = ..., client_id: _Optional[str] = ...) -> None: ...

class RotateAppSecretResponse(_message.Message):
    __slots__ = ("client_secret",)
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    client_secret: str
    def __init__(self, client_secret: _Optional[str] = ...) -> None: ...

class DeleteAppRequest(_message.Message):
    __slots__ = ("user_id", "client_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    client_id: str
    def __init__(self, user_id: _Optional[str] = ..., client_id: _Optional[str] = ...) -> None: ...

class DeleteAppResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckAuthorizationRequest(_message.Message):
    __slots__ = ("client_id", "redirect_uri", "scope", "code_challenge", "code_challenge_method", "response_type")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CODE_CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    CODE_CHALLENGE_METHOD_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    response_type: str
    def __init__(self, client_id: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., scope: _Optional[str] = ..., code_challenge: _Optional[str] = ..., code_challenge_method: _Optional[str] = ..., response_type: _Optional[str] = ...) -> None: ...

class CheckAuthorizationResponse(_message.Message):
    __slots__ = ("app_name", "homepage", "scopes")
    APP_NAME_FIELD_NUMBER: _ClassVar[int]
    HOMEPAGE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    app_name: str
    homepage: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, app_name: _Optional[str] = ..., homepage: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ...) -> None: ...

class IssueCodeRequest(_message.Message):
    __slots__ = ("user_id", "authorization")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    authorization: CheckAuthorizationRequest
    def __init__(self, user_id: _Optional[str] = ..., authorization: _Optional[_Union[CheckAuthorizationRequest, _Mapping]] = ...) -> None: ...

class IssueCodeResponse(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class ClientCredentials(_message.Message):
    __slots__ = ("client_id", "client_secret")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    client_secret: str
    def __init__(self, client_id: _Optional[str] = ..., client_secret: _Optional[str] = ...) -> None: ...

class ExchangeCodeRequest(_message.Message):
    __slots__ = ("client", "code", "redirect_uri", "code_verifier")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    CODE_VERIFIER_FIELD_NUMBER: _ClassVar[int]
    client: ClientCredentials
    code: str
    redirect_uri: str
    code_verifier: str
    def __init__(self, client: _Optional[_Union[ClientCredentials, _Mapping]] = ..., code: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., code_verifier: _Optional[str] = ...) -> None: ...

class ExchangeCodeResponse(_message.Message):
    __slots__ = ("access_token", "scope", "app_name")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    APP_NAME_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    scope: str
    app_name: str
    def __init__(self, access_token: _Optional[str] = ..., scope: _Optional[str] = ..., app_name: _Optional[str] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("client", "token")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    client: ClientCredentials
    token: str
    def __init__(self, client: _Optional[_Union[ClientCredentials, _Mapping]] = ..., token: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ...) -> None: ...

class RevokeConnectionRequest(_message.Message):
    __slots__ = ("user_id", "client_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    client_id: str
    def __init__(self, user_id: _Optional[str] = ..., client_id: _Optional[str] = ...) -> None: ...

class RevokeConnectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
