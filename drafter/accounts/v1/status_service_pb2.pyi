import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatusRange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_RANGE_UNSPECIFIED: _ClassVar[StatusRange]
    STATUS_RANGE_24H: _ClassVar[StatusRange]
    STATUS_RANGE_90D: _ClassVar[StatusRange]
STATUS_RANGE_UNSPECIFIED: StatusRange
STATUS_RANGE_24H: StatusRange
STATUS_RANGE_90D: StatusRange

class ComponentCheck(_message.Message):
    __slots__ = ("name", "up", "latency_ms", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    up: bool
    latency_ms: float
    detail: str
    def __init__(self, name: _Optional[str] = ..., up: _Optional[bool] = ..., latency_ms: _Optional[float] = ..., detail: _Optional[str] = ...) -> None: ...

class CheckDependenciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckDependenciesResponse(_message.Message):
    __slots__ = ("checks", "rss_bytes")
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[ComponentCheck]
    rss_bytes: int
    def __init__(self, checks: _Optional[_Iterable[_Union[ComponentCheck, _Mapping]]] = ..., rss_bytes: _Optional[int] = ...) -> None: ...

class GetStatusHistoryRequest(_message.Message):
    __slots__ = ("range",)
    RANGE_FIELD_NUMBER: _ClassVar[int]
    range: StatusRange
    def __init__(self, range: _Optional[_Union[StatusRange, str]] = ...) -> None: ...

class StatusBucket(_message.Message):
    __slots__ = ("start", "probes", "successes", "mean_latency_ms")
    START_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    MEAN_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    probes: int
    successes: int
    mean_latency_ms: float
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., probes: _Optional[int] = ..., successes: _Optional[int] = ..., mean_latency_ms: _Optional[float] = ...) -> None: ...

class ComponentHistory(_message.Message):
    __slots__ = ("name", "buckets", "uptime_percent")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_PERCENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    buckets: _containers.RepeatedCompositeFieldContainer[StatusBucket]
    uptime_percent: float
    def __init__(self, name: _Optional[str] = ..., buckets: _Optional[_Iterable[_Union[StatusBucket, _Mapping]]] = ..., uptime_percent: _Optional[float] = ...) -> None: ...

class GetStatusHistoryResponse(_message.Message):
    __slots__ = ("components", "uptime_percent", "probe_interval_s")
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PROBE_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    components: _containers.RepeatedCompositeFieldContainer[ComponentHistory]
    uptime_percent: float
    probe_interval_s: int
    def __init__(self, components: _Optional[_Iterable[_Union[ComponentHistory, _Mapping]]] = ..., uptime_percent: _Optional[float] = ..., probe_interval_s: _Optional[int] = ...) -> None: ...
