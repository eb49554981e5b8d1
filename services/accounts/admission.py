"""The hot path: Authorize (authenticate, check the plan, reserve quota) and Settle
(commit or refund, record usage), with SQLAlchemy Core statements only.

Each Authorize writes one ``usage_records`` row in state "reserved"; its unguessable id is
the reservation id, and the row carries the user, kind, units and quota day, so Settle
needs nothing else and can refund the right counter even after midnight. Settle moves
the row out of "reserved" with a conditional UPDATE, so a reservation is committed or
refunded exactly once; settling it again is a no-op.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.model_table import ModelSpec, ModelTable
from drafter.rpc.errors import InvalidRequest, NotFound
from services.accounts.credentials import Principal, authenticate, touch_statement
from services.accounts.errors import AccountBlocked, ModelNotInPlan
from services.accounts.plans import LIMITED_KINDS, Plan, PlanTable
from services.accounts.quota import Clock, QuotaStore, quota_day, quota_exceeded, utc_now
from services.accounts.tables import STATUS_RESERVED, STATUS_SUCCEEDED
from services.accounts.tables import usage_records_t as records
from services.accounts.tokens import new_reservation_id

log = logging.getLogger("drafter.accounts")

KINDS = (*LIMITED_KINDS, "apiCall")
SETTLED_STATUSES = ("succeeded", "rejected", "failed", "cancelled")
MAX_UNITS = 64
# last_used_at is written at most this often per key, to keep Authorize cheap.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Authorization:
    principal: Principal
    plan: Plan
    reservation_id: str
    model: str


@dataclass(frozen=True, slots=True)
class TokenCounts:
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


_SETTLE_COLUMNS = (records.c.user_id, records.c.kind, records.c.units_reserved, records.c.quota_day)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Admission:
    """Authorize / Settle / ListModels over the database, a quota store and the tables.

    Every write here is one atomic statement (or two independent ones), so ``engine``
    should be in autocommit mode (``db.create_engine(url, autocommit=True)``), which
    saves the BEGIN / COMMIT round trips; a transactional engine works too."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        plans: PlanTable,
        models: ModelTable,
        quotas: QuotaStore,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self._plans = plans
        self._models = models
        self._quotas = quotas
        self._clock = clock

    async def _caller(self, credential: str) -> tuple[Principal, Plan]:
        async with self._engine.connect() as conn:
            principal = await authenticate(conn=conn, credential=credential)
        if principal.blocked:
            raise AccountBlocked()
        plan = self._plans.get(principal.plan)
        if plan is None:
            log.warning(
                "user %s has plan %r, not in the plan table; using the default",
                principal.user_id,
                principal.plan,
            )
            plan = self._plans.default_plan
        return principal, plan

    def _model_for(self, kind: str, name: str, plan: Plan) -> str:
        if not name:
            if kind == "chat":
                raise InvalidRequest("A model is required.", metadata={"param": "model"})
            return ""
        spec = self._models.resolve(name)
        if kind != "chat":
            return spec.id
        if spec.kind != "chat":
            raise InvalidRequest(f"`{name}` is not a chat model.", metadata={"param": "model"})
        if not plan.allows_model(spec.id):
            raise ModelNotInPlan(
                f"The model `{spec.id}` is not available on the {plan.name} plan.",
                metadata={"model": spec.id, "plan": plan.key},
            )
        return spec.id

    async def authorize(
        self, *, credential: str, kind: str, model: str, units: int
    ) -> Authorization:
        """Authenticates, checks the plan and reserves ``units`` of today's ``kind`` quota."""
        if kind not in KINDS:
            raise InvalidRequest(f"Unknown usage kind '{kind}'.", metadata={"param": "kind"})
        units = units or 1
        if not 0 < units <= MAX_UNITS:
            raise InvalidRequest(f"units must be 1..{MAX_UNITS}.", metadata={"param": "units"})
        principal, plan = await self._caller(credential)
        model_id = self._model_for(kind, model, plan)
        now = self._clock()
        day = quota_day(now)
        limit = plan.limits.for_kind(kind)
        if limit is not None:
            result = await self._quotas.reserve(
                user_id=principal.user_id, kind=kind, day=day, units=units, limit=limit
            )
            if not result.admitted:
                raise quota_exceeded(kind=kind, limit=limit, used=result.used, now=now)
        try:
            reservation_id = await self._record(principal, kind, model_id, units, day, now)
        except BaseException:
            if limit is not None:
                await self._quotas.refund(
                    user_id=principal.user_id, kind=kind, day=day, units=units
                )
            raise
        return Authorization(principal, plan, reservation_id, model_id)

    async def _record(
        self,
        principal: Principal,
        kind: str,
        model: str,
        units: int,
        day: dt.date,
        now: dt.datetime,
    ) -> str:
        reservation_id = new_reservation_id()
        insert = sa.insert(records).values(
            id=reservation_id,
            user_id=principal.user_id,
            credential_id=principal.credential_id,
            kind=kind,
            model=model,
            status=STATUS_RESERVED,
            quota_day=day,
            units_reserved=units,
            units=0,
            created_at=now,
        )
        last = principal.last_used_at
        async with self._engine.begin() as conn:
            await conn.execute(insert)
            if last is None or now - _aware(last) >= TOUCH_INTERVAL:
                await conn.execute(touch_statement(principal.credential_id, now))
        return reservation_id

    def _settle_statement(
        self, reservation_id: str, status: str, units: int, tokens: TokenCounts, latency_ms: int
    ) -> sa.Update:
        """Moves a reserved record to ``status``; matches nothing once it was settled."""
        recorded: sa.ColumnElement[int] | int = 0
        if status == STATUS_SUCCEEDED:
            col = records.c.units_reserved
            recorded = sa.case((col < units, col), else_=units) if units else col
        return (
            sa.update(records)
            .where(records.c.id == reservation_id, records.c.status == STATUS_RESERVED)
            .values(
                status=status,
                units=recorded,
                latency_ms=max(0, latency_ms),
                settled_at=self._clock(),
                **_token_values(tokens),
            )
            .returning(*_SETTLE_COLUMNS)
        )

    async def settle(
        self,
        *,
        reservation_id: str,
        status: str,
        units_used: int,
        tokens: TokenCounts,
        latency_ms: int,
    ) -> bool:
        """Commits (status "succeeded") or refunds a reservation and records its usage.
        Returns False when it was already settled (a no-op). ``units_used`` 0 on success
        means every reserved unit was used."""
        if status not in SETTLED_STATUSES:
            raise InvalidRequest(f"Unknown outcome '{status}'.", metadata={"param": "outcome"})
        units = max(0, units_used)
        stmt = self._settle_statement(reservation_id, status, units, tokens, latency_ms)
        async with self._engine.begin() as conn:
            row = (await conn.execute(stmt)).first()
            if row is None:
                exists = sa.select(records.c.id).where(records.c.id == reservation_id)
                if (await conn.execute(exists)).first() is None:
                    raise NotFound("Unknown reservation.", metadata={"param": "reservation_id"})
                return False
        if row.kind in LIMITED_KINDS:
            key = {"user_id": row.user_id, "kind": row.kind, "day": row.quota_day}
            reserved = row.units_reserved
            if status == STATUS_SUCCEEDED:
                used = min(reserved, units) if units else reserved
                await self._quotas.commit(**key, reserved=reserved, used=used)
            else:
                await self._quotas.refund(**key, units=reserved)
        return True

    async def list_models(self, *, credential: str) -> list[ModelSpec]:
        """The plan's chat models and every image model, in model-table order."""
        _, plan = await self._caller(credential)
        return [m for m in self._models if m.kind == "image" or plan.allows_model(m.id)]


def _token_values(tokens: TokenCounts) -> dict[str, int]:
    return {
        "input_tokens": max(0, tokens.input_tokens),
        "output_tokens": max(0, tokens.output_tokens),
        "reasoning_tokens": max(0, tokens.reasoning_tokens),
        "cache_read_input_tokens": max(0, tokens.cache_read_input_tokens),
        "cache_creation_input_tokens": max(0, tokens.cache_creation_input_tokens),
    }
