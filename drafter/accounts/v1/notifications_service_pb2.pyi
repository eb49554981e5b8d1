from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationPrefs(_message.Message):
    __slots__ = ("api_key_created", "app_connected", "quota_warning")
    API_KEY_CREATED_FIELD_NUMBER: _ClassVar[int]
    APP_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    QUOTA_WARNING_FIELD_NUMBER: _ClassVar[int]
    api_key_created: bool
    app_connected: bool
    quota_warning: bool
    def __init__(self, api_key_created: _Optional[bool] = ..., app_connected: _Optional[bool] = ..., quota_warning: _Optional[bool] = ...) -> None: ...

class GetNotificationPrefsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetNotificationPrefsResponse(_message.Message):
    __slots__ = ("prefs",)
    PREFS_FIELD_NUMBER: _ClassVar[int]
    prefs: NotificationPrefs
    def __init__(self, prefs: _Optional[_Union[NotificationPrefs, _Mapping]] = ...) -> None: ...

class SetNotificationPrefsRequest(_message.Message):
    __slots__ = ("user_id", "prefs")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PREFS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    prefs: NotificationPrefs
    def __init__(self, user_id: _Optional[str] = ..., prefs: _Optional[_Union[NotificationPrefs, _Mapping]] = ...) -> None: ...

class SetNotificationPrefsResponse(_message.Message):
    __slots__ = ("prefs",)
    PREFS_FIELD_NUMBER: _ClassVar[int]
    prefs: NotificationPrefs
    def __init__(self, prefs: _Optional[_Union[NotificationPrefs, _Mapping]] = ...) -> None: ...
