"""AccountsServicer: proto in, domain call, proto out. Nothing else lives here."""

from __future__ import annotations

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.rpc.errors import DrafterError
from drafter.services.accounts import convert
from drafter.services.accounts.admission.authorize import Admission
from drafter.services.accounts.admission.credential_cache import Invalidate
from drafter.services.accounts.db.engine import ping
from drafter.services.accounts.notifications.notifier import Notifier, api_key_created
from drafter.services.accounts.plans import codes
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.quota.store import quota_day
from drafter.services.accounts.usage.report import usage_report
from drafter.services.accounts.users import api_keys, users
from drafter.timeutil import Clock, utc_now


class AccountsServicer(accounts_grpc.AccountsServiceServicer):
    def __init__(
        self,
        *,
        admission: Admission,
        engine: AsyncEngine,
        plans: PlanTable,
        invalidate: Invalidate,
        clock: Clock = utc_now,
        notifier: Notifier | None = None,
    ) -> None:
        self._admission = admission
        self._engine = engine
        self._plans = plans
        self._invalidate = invalidate
        self._clock = clock
        self._notifier = notifier

    async def Authorize(
        self, request: accounts_pb.AuthorizeRequest, context: aio.ServicerContext
    ) -> accounts_pb.AuthorizeResponse:
        auth = await self._admission.authorize(
            credential=request.credential,
            kind=convert.usage_kind(request.kind),
            model=request.model,
            units=request.units,
        )
        return accounts_pb.AuthorizeResponse(
            caller=convert.caller_proto(auth.principal, auth.plan),
            reservation_id=auth.reservation_id,
            model=auth.model,
        )

    async def Settle(
        self, request: accounts_pb.SettleRequest, context: aio.ServicerContext
    ) -> accounts_pb.SettleResponse:
        await self._settle(request)
        await self._admission.settled()  # answered only once written
        return accounts_pb.SettleResponse()

    async def SettleMany(
        self, request: accounts_pb.SettleManyRequest, context: aio.ServicerContext
    ) -> accounts_pb.SettleManyResponse:
        response = accounts_pb.SettleManyResponse()
        for index, settlement in enumerate(request.settlements):
            try:
                await self._settle(settlement)
            except DrafterError as exc:
                response.failures.add(index=index, message=exc.message)
        await self._admission.settled()  # answered only once written
        return response

    async def _settle(self, request: accounts_pb.SettleRequest) -> None:
        await self._admission.settle(
            reservation_id=request.reservation_id,
            outcome=convert.outcome(request.outcome),
            units_used=request.units_used,
            tokens=convert.token_counts(request.usage),
            latency_ms=request.latency_ms,
        )

    async def ListModels(
        self, request: accounts_pb.ListModelsRequest, context: aio.ServicerContext
    ) -> accounts_pb.ListModelsResponse:
        specs = await self._admission.list_models(credential=request.credential)
        return accounts_pb.ListModelsResponse(models=[convert.model_proto(s) for s in specs])

    async def CreateUser(
        self, request: accounts_pb.CreateUserRequest, context: aio.ServicerContext
    ) -> accounts_pb.CreateUserResponse:
        user_id = await users.create_user(
            engine=self._engine,
            plans=self._plans,
            email=request.email,
            password=request.password,
            plan=request.plan,
            now=self._clock(),
        )
        return accounts_pb.CreateUserResponse(user_id=user_id)

    async def SetUserPlan(
        self, request: accounts_pb.SetUserPlanRequest, context: aio.ServicerContext
    ) -> accounts_pb.SetUserPlanResponse:
        await users.set_user_plan(
            engine=self._engine, plans=self._plans, email=request.email, plan=request.plan
        )
        await self._invalidate()
        return accounts_pb.SetUserPlanResponse()

    async def CreateApiKey(
        self, request: accounts_pb.CreateApiKeyRequest, context: aio.ServicerContext
    ) -> accounts_pb.CreateApiKeyResponse:
        key = await api_keys.create_api_key(
            engine=self._engine,
            plans=self._plans,
            email=request.email,
            user_id=request.user_id,
            name=request.name,
            now=self._clock(),
        )
        api_key_created(self._notifier, user_id=key.user_id, name=request.name, prefix=key.prefix)
        return accounts_pb.CreateApiKeyResponse(
            key_id=key.key_id, secret=key.secret, prefix=key.prefix
        )

    async def CheckDatabase(
        self, request: accounts_pb.CheckDatabaseRequest, context: aio.ServicerContext
    ) -> accounts_pb.CheckDatabaseResponse:
        latency_ms = await ping(self._engine)
        return accounts_pb.CheckDatabaseResponse(
            backend=self._engine.dialect.name, latency_ms=latency_ms
        )

    async def GetUsage(
        self, request: accounts_pb.GetUsageRequest, context: aio.ServicerContext
    ) -> accounts_pb.GetUsageResponse:
        report = await usage_report(
            self._admission, credential=request.credential, now=self._clock()
        )
        return accounts_pb.GetUsageResponse(
            plan=report.plan.key,
            today=convert.usage_counts(report.today),
            api_calls=report.api_calls,
            tokens=report.tokens,
            limits=convert.usage_counts(report.limits),
            remaining=convert.usage_counts(report.remaining),
            reset_in_s=report.reset_in_s,
            cache_read_tokens=report.cache_read_tokens,
            cache_creation_tokens=report.cache_creation_tokens,
        )

    async def GetUsageHistory(
        self, request: accounts_pb.GetUsageHistoryRequest, context: aio.ServicerContext
    ) -> accounts_pb.GetUsageHistoryResponse:
        days = await self._admission.usage.history(request.user_id, quota_day(self._clock()))
        return accounts_pb.GetUsageHistoryResponse(days=[convert.day_usage_proto(d) for d in days])

    async def ListApiKeys(
        self, request: accounts_pb.ListApiKeysRequest, context: aio.ServicerContext
    ) -> accounts_pb.ListApiKeysResponse:
        rows = await api_keys.list_api_keys(engine=self._engine, user_id=request.user_id)
        return accounts_pb.ListApiKeysResponse(keys=[convert.api_key_proto(r) for r in rows])

    async def RenameApiKey(
        self, request: accounts_pb.RenameApiKeyRequest, context: aio.ServicerContext
    ) -> accounts_pb.RenameApiKeyResponse:
        await api_keys.rename_api_key(
            engine=self._engine, user_id=request.user_id, key_id=request.key_id, name=request.name
        )
        return accounts_pb.RenameApiKeyResponse()

    async def RevokeApiKey(
        self, request: accounts_pb.RevokeApiKeyRequest, context: aio.ServicerContext
    ) -> accounts_pb.RevokeApiKeyResponse:
        await api_keys.revoke_api_key(
            engine=self._engine, user_id=request.user_id, key_id=request.key_id, now=self._clock()
        )
        await self._invalidate()
        return accounts_pb.RevokeApiKeyResponse()

    async def SetUserBlocked(
        self, request: accounts_pb.SetUserBlockedRequest, context: aio.ServicerContext
    ) -> accounts_pb.SetUserBlockedResponse:
        await users.set_user_blocked(
            engine=self._engine, email=request.email, blocked=request.blocked
        )
        await self._invalidate()
        return accounts_pb.SetUserBlockedResponse()

    async def CreateDiscountCode(
        self, request: accounts_pb.CreateDiscountCodeRequest, context: aio.ServicerContext
    ) -> accounts_pb.CreateDiscountCodeResponse:
        code = await codes.create_code(
            engine=self._engine,
            plans=self._plans,
            plan=request.plan,
            days=request.days,
            max_uses=request.max_uses,
            now=self._clock(),
        )
        return accounts_pb.CreateDiscountCodeResponse(code=code)

    async def RedeemDiscountCode(
        self, request: accounts_pb.RedeemDiscountCodeRequest, context: aio.ServicerContext
    ) -> accounts_pb.RedeemDiscountCodeResponse:
        plan, until = await codes.redeem_code(
            engine=self._engine, user_id=request.user_id, code=request.code, now=self._clock()
        )
        await self._invalidate()
        return accounts_pb.RedeemDiscountCodeResponse(
            plan=plan, expires_at=convert.timestamp(until)
        )
