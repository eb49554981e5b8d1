"""StatusServicer: proto in, domain call, proto out: live dependency checks and the
probe history, for the status page."""

from __future__ import annotations

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import status_service_pb2 as status_pb
from drafter.accounts.v1 import status_service_pb2_grpc as status_grpc
from drafter.runtime import rss_bytes
from drafter.services.accounts import convert
from drafter.services.accounts.status import history as status_history
from drafter.services.accounts.status.probes import Dependencies
from drafter.timeutil import Clock, utc_now


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
            checks=[convert.check_proto(c) for c in checks], rss_bytes=rss_bytes()
        )

    async def GetStatusHistory(
        self, request: status_pb.GetStatusHistoryRequest, context: aio.ServicerContext
    ) -> status_pb.GetStatusHistoryResponse:
        daily = request.range == status_pb.STATUS_RANGE_90D
        found = await status_history.history(self._engine, self._clock(), daily=daily)
        everything = [b for buckets in found.components.values() for b in buckets]
        return status_pb.GetStatusHistoryResponse(
            components=convert.component_histories(found),
            uptime_percent=status_history.uptime_percent(everything),
            probe_interval_s=max(1, round(self._interval_s)),
        )
