"""DashboardServicer: proto in, domain call, proto out, for the dashboard pages (plans,
the account's usage, app changes, support tickets, deleting the account)."""

from __future__ import annotations

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.accounts.v1 import dashboard_service_pb2_grpc as dash_grpc
from drafter.services.accounts import convert
from drafter.services.accounts.admission.authorize import Admission
from drafter.services.accounts.admission.credential_cache import Invalidate
from drafter.services.accounts.oauth import apps as oauth_apps
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.support import tickets
from drafter.services.accounts.usage.report import account_usage
from drafter.services.accounts.users import deletion
from drafter.timeutil import Clock


class DashboardServicer(dash_grpc.DashboardServiceServicer):
    def __init__(
        self,
        *,
        admission: Admission,
        engine: AsyncEngine,
        plans: PlanTable,
        invalidate: Invalidate,
        clock: Clock,
    ) -> None:
        self._admission = admission
        self._engine = engine
        self._plans = plans
        self._invalidate = invalidate
        self._clock = clock

    async def ListPlans(
        self, request: dash_pb.ListPlansRequest, context: aio.ServicerContext
    ) -> dash_pb.ListPlansResponse:
        return dash_pb.ListPlansResponse(plans=[convert.plan_proto(p) for p in self._plans])

    async def GetAccountUsage(
        self, request: dash_pb.GetAccountUsageRequest, context: aio.ServicerContext
    ) -> dash_pb.GetAccountUsageResponse:
        usage = await account_usage(
            admission=self._admission,
            engine=self._engine,
            plans=self._plans,
            user_id=request.user_id,
            now=self._clock(),
        )
        return dash_pb.GetAccountUsageResponse(
            plan=convert.plan_proto(usage.plan),
            today=convert.usage_counts(usage.today),
            api_calls=usage.api_calls,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            reset_in_s=usage.reset_in_s,
            history=[convert.day_usage_proto(d) for d in usage.history],
            plan_expires_at=convert.timestamp(usage.plan_expires_at),
            today_date=usage.day.isoformat(),
        )

    async def UpdateApp(
        self, request: dash_pb.UpdateAppRequest, context: aio.ServicerContext
    ) -> dash_pb.UpdateAppResponse:
        app = await oauth_apps.update_app(
            engine=self._engine,
            user_id=request.user_id,
            client_id=request.client_id,
            name=request.name,
            redirect_uris=list(request.redirect_uris),
            homepage=request.homepage,
        )
        return dash_pb.UpdateAppResponse(app=convert.app_proto(app))

    async def CreateTicket(
        self, request: dash_pb.CreateTicketRequest, context: aio.ServicerContext
    ) -> dash_pb.CreateTicketResponse:
        ticket = await tickets.create_ticket(
            engine=self._engine,
            user_id=request.user_id,
            subject=request.subject,
            message=request.message,
            now=self._clock(),
        )
        return dash_pb.CreateTicketResponse(ticket=convert.ticket_proto(ticket))

    async def ListTickets(
        self, request: dash_pb.ListTicketsRequest, context: aio.ServicerContext
    ) -> dash_pb.ListTicketsResponse:
        found = await tickets.list_tickets(engine=self._engine, user_id=request.user_id)
        return dash_pb.ListTicketsResponse(tickets=[convert.ticket_proto(t) for t in found])

    async def AnswerTicket(
        self, request: dash_pb.AnswerTicketRequest, context: aio.ServicerContext
    ) -> dash_pb.AnswerTicketResponse:
        ticket = await tickets.answer_ticket(
            engine=self._engine,
            user_id=request.user_id,
            ticket_id=request.ticket_id,
            message=request.message,
            now=self._clock(),
        )
        return dash_pb.AnswerTicketResponse(ticket=convert.ticket_proto(ticket))

    async def DeleteAccount(
        self, request: dash_pb.DeleteAccountRequest, context: aio.ServicerContext
    ) -> dash_pb.DeleteAccountResponse:
        await self._admission.usage.flush()
        await deletion.delete_account(
            engine=self._engine,
            user_id=request.user_id,
            password=request.password,
            now=self._clock(),
        )
        await self._invalidate()
        return dash_pb.DeleteAccountResponse()
