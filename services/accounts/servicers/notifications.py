"""NotificationsServicer: proto in, domain call, proto out, for a user's email
notification preferences."""

from __future__ import annotations

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from drafter.rpc.errors import InvalidRequest
from drafter.services.accounts import convert
from drafter.services.accounts.notifications import prefs as notification_prefs
from drafter.timeutil import Clock, utc_now


def _user_id(value: str) -> str:
    if not value:
        raise InvalidRequest("user_id is required.", metadata={"param": "user_id"})
    return value


class NotificationsServicer(notifications_grpc.NotificationsServiceServicer):
    def __init__(self, *, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    async def GetNotificationPrefs(
        self, request: notifications_pb.GetNotificationPrefsRequest, context: aio.ServicerContext
    ) -> notifications_pb.GetNotificationPrefsResponse:
        prefs = await notification_prefs.get_prefs(
            engine=self._engine, user_id=_user_id(request.user_id)
        )
        return notifications_pb.GetNotificationPrefsResponse(prefs=convert.prefs_proto(prefs))

    async def SetNotificationPrefs(
        self, request: notifications_pb.SetNotificationPrefsRequest, context: aio.ServicerContext
    ) -> notifications_pb.SetNotificationPrefsResponse:
        wanted = convert.prefs_from_proto(request.prefs)
        stored = await notification_prefs.set_prefs(
            engine=self._engine, user_id=_user_id(request.user_id), prefs=wanted, now=self._clock()
        )
        return notifications_pb.SetNotificationPrefsResponse(prefs=convert.prefs_proto(stored))
