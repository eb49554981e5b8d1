"""NotificationsService: a user's email notification preferences."""

from __future__ import annotations

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from drafter.rpc.errors import InvalidRequest
from drafter.rpc.server import Registration
from services.accounts import notification_prefs
from services.accounts.notification_prefs import Prefs
from services.accounts.quota import Clock, utc_now

NOTIFICATIONS_SERVICE = notifications_pb.DESCRIPTOR.services_by_name[
    "NotificationsService"
].full_name


def prefs_proto(prefs: Prefs) -> notifications_pb.NotificationPrefs:
    return notifications_pb.NotificationPrefs(
        api_key_created=prefs.api_key_created,
        app_connected=prefs.app_connected,
        quota_warning=prefs.quota_warning,
    )


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
        return notifications_pb.GetNotificationPrefsResponse(prefs=prefs_proto(prefs))

    async def SetNotificationPrefs(
        self, request: notifications_pb.SetNotificationPrefsRequest, context: aio.ServicerContext
    ) -> notifications_pb.SetNotificationPrefsResponse:
        wanted = Prefs(
            api_key_created=request.prefs.api_key_created,
            app_connected=request.prefs.app_connected,
            quota_warning=request.prefs.quota_warning,
        )
        stored = await notification_prefs.set_prefs(
            engine=self._engine, user_id=_user_id(request.user_id), prefs=wanted, now=self._clock()
        )
        return notifications_pb.SetNotificationPrefsResponse(prefs=prefs_proto(stored))


def notifications_registration(*, engine: AsyncEngine, clock: Clock) -> Registration:
    servicer = NotificationsServicer(engine=engine, clock=clock)
    return Registration(
        notifications_grpc.add_NotificationsServiceServicer_to_server,
        servicer,
        NOTIFICATIONS_SERVICE,
    )
