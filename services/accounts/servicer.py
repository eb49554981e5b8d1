"""AccountsServicer: proto in, domain call, proto out. Nothing else lives here."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.model_table import ModelSpec
from services.accounts import db, users
from services.accounts.admission import Admission, TokenCounts
from services.accounts.plans import PlanTable
from services.accounts.quota import Clock, utc_now

# Proto usage kind → the name used by the plan table, usage records and the usage API.
KIND_NAMES: dict[int, str] = {
    accounts_pb.USAGE_KIND_CHAT: "chat",
    accounts_pb.USAGE_KIND_IMAGE_GEN: "imageGen",
    accounts_pb.USAGE_KIND_IMAGE_EDIT: "imageEdit",
    accounts_pb.USAGE_KIND_API_CALL: "apiCall",
}
OUTCOME_STATUSES: dict[int, str] = {
    accounts_pb.OUTCOME_SUCCEEDED: "succeeded",
    accounts_pb.OUTCOME_REJECTED: "rejected",
    accounts_pb.OUTCOME_FAILED: "failed",
    accounts_pb.OUTCOME_CANCELLED: "cancelled",
}


def _model_proto(spec: ModelSpec) -> accounts_pb.Model:
    return accounts_pb.Model(
        id=spec.id, owned_by=spec.owned_by, created=Timestamp(seconds=spec.created_ts)
    )


def _token_counts(usage: accounts_pb.TokenUsage) -> TokenCounts:
    return TokenCounts(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
    )


class AccountsServicer(accounts_grpc.AccountsServiceServicer):
    def __init__(
        self,
        *,
        admission: Admission,
        engine: AsyncEngine,
        plans: PlanTable,
        clock: Clock = utc_now,
    ) -> None:
        self._admission = admission
        self._engine = engine
        self._plans = plans
        self._clock = clock

    async def Authorize(
        self, request: accounts_pb.AuthorizeRequest, context: aio.ServicerContext
    ) -> accounts_pb.AuthorizeResponse:
        auth = await self._admission.authorize(
            credential=request.credential,
            kind=KIND_NAMES.get(request.kind, ""),
            model=request.model,
            units=request.units,
        )
        caller = accounts_pb.Caller(
            user_id=auth.principal.user_id,
            plan=auth.plan.key,
            credential_id=auth.principal.credential_id,
        )
        return accounts_pb.AuthorizeResponse(
            caller=caller, reservation_id=auth.reservation_id, model=auth.model
        )

    async def Settle(
        self, request: accounts_pb.SettleRequest, context: aio.ServicerContext
    ) -> accounts_pb.SettleResponse:
        await self._admission.settle(
            reservation_id=request.reservation_id,
            status=OUTCOME_STATUSES.get(request.outcome, ""),
            units_used=request.units_used,
            tokens=_token_counts(request.usage),
            latency_ms=request.latency_ms,
        )
        return accounts_pb.SettleResponse()

    async def ListModels(
        self, request: accounts_pb.ListModelsRequest, context: aio.ServicerContext
    ) -> accounts_pb.ListModelsResponse:
        specs = await self._admission.list_models(credential=request.credential)
        return accounts_pb.ListModelsResponse(models=[_model_proto(s) for s in specs])

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
        return accounts_pb.SetUserPlanResponse()

    async def CreateApiKey(
        self, request: accounts_pb.CreateApiKeyRequest, context: aio.ServicerContext
    ) -> accounts_pb.CreateApiKeyResponse:
        key = await users.create_api_key(
            engine=self._engine,
            plans=self._plans,
            email=request.email,
            name=request.name,
            now=self._clock(),
        )
        return accounts_pb.CreateApiKeyResponse(
            key_id=key.key_id, secret=key.secret, prefix=key.prefix
        )

    async def CheckDatabase(
        self, request: accounts_pb.CheckDatabaseRequest, context: aio.ServicerContext
    ) -> accounts_pb.CheckDatabaseResponse:
        latency_ms = await db.ping(self._engine)
        return accounts_pb.CheckDatabaseResponse(
            backend=self._engine.dialect.name, latency_ms=latency_ms
        )
