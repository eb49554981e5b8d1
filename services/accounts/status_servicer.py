"""StatusService: live dependency checks and the probe history, for the status page."""

from __future__ import annotations

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import status_service_pb2 as status_pb
from drafter.accounts.v1 import status_service_pb2_grpc as status_grpc
from drafter.memory import rss_bytes
from drafter.rpc.server import Registration
from services.accounts import convert, status_history
from services.accounts.quota import Clock, utc_now
from services.accounts.status_history import Bucket, Check
from services.accounts.status_probes import Dependencies

STATUS_SERVICE = status_pb.DESCRIPTOR.services_by_name["StatusService"].full_name


def check_proto(check: Check) -> status_pb.ComponentCheck:
    return status_pb.ComponentCheck(
        name=check.name, up=check.up, latency_ms=check.latency_ms, detail=check.detail
    )


def bucket_proto(bucket: Bucket) -> status_pb.StatusBucket:
    return status_pb.StatusBucket(
        start=convert.timestamp(bucket.start),
        probes=bucket.probes,
        successes=bucket.successes,
        mean_latency_ms=round(bucket.mean_latency_ms, 2),
    )


class StatusServicer(status_grpc.StatusServiceServicer):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        dependencies: Dependencies,
        interval_s: float,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self._dependencies = dependencies
        self._interval_s = interval_s
        self._clock = clock

    async def CheckDependencies(
        self, request: status_pb.CheckDependenciesRequest, context: aio.ServicerContext
    ) -> status_pb.CheckDependenciesResponse:
        checks = await self._dependencies.check()
        return status_pb.CheckDependenciesResponse(
            checks=[check_proto(c) for c in checks], rss_bytes=rss_bytes()
        )

    async def GetStatusHistory(
        self, request: status_pb.GetStatusHistoryRequest, context: aio.ServicerContext
    ) -> status_pb.GetStatusHistoryResponse:
        daily = request.range == status_pb.STATUS_RANGE_90D
        found = await status_history.history(self._engine, self._clock(), daily=daily)
        components = [
            status_pb.ComponentHistory(
                name=name,
                buckets=[bucket_proto(b) for b in buckets],
                uptime_percent=status_history.uptime_percent(buckets),
            )
            for name, buckets in sorted(found.components.items())
        ]
        everything = [b for buckets in found.components.values() for b in buckets]
        return status_pb.GetStatusHistoryResponse(
            components=components,
            uptime_percent=status_history.uptime_percent(everything),
            probe_interval_s=max(1, round(self._interval_s)),
        )


def status_registration(
    *, engine: AsyncEngine, dependencies: Dependencies, interval_s: float, clock: Clock
) -> Registration:
    servicer = StatusServicer(
        engine=engine, dependencies=dependencies, interval_s=interval_s, clock=clock
    )
    return Registration(status_grpc.add_StatusServiceServicer_to_server, servicer, STATUS_SERVICE)
