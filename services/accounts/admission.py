"""The hot path: Authorize (authenticate, check the plan, reserve quota) and Settle
(commit or refund, record usage).

Per request pair, in the steady state:

* Authorize: the credential comes from the in-memory cache (``credential_cache``), and
  the quota store reserves the units and reads the credentials epoch in ONE round trip
  (one Redis script, or one SQL upsert). Nothing is written to SQL: the reservation id
  carries the reservation (``reservations``).
* Settle: the usage record is written once (``usage``): batched with others when
  nothing is given back (no round trip of its own); when units go back, one INSERT
  that also guards against settling twice, then the refund (one statement or script).

A cached credential whose epoch has moved is dropped and looked up again, with the
reserved units given back first, so revocation, blocking and plan changes apply to the
very next request in every replica.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.model_table import ModelSpec, ModelTable
from drafter.rpc.errors import InvalidRequest
from services.accounts import notifications, reservations
from services.accounts.credential_cache import CachedPrincipal, CredentialCache, database_epoch
from services.accounts.credentials import Principal, authenticate
from services.accounts.errors import AccountBlocked, ModelNotInPlan
from services.accounts.notifications import Notifier
from services.accounts.oauth_rules import InsufficientScope, require_scope
from services.accounts.plans import LIMITED_KINDS, Plan, PlanTable
from services.accounts.quota import Clock, QuotaStore, quota_day, quota_exceeded, utc_now
from services.accounts.reservations import Reservation
from services.accounts.tables import STATUS_SUCCEEDED
from services.accounts.tokens import hash_token
from services.accounts.usage import TokenCounts, UsageLog, usage_row

log = logging.getLogger("drafter.accounts")

API_CALL = "apiCall"
KINDS = (*LIMITED_KINDS, API_CALL)
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


class _Stale(Exception):
    """The cached principal predates a change (the epoch moved)."""


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Admission:
    """Authorize / Settle and the caller checks shared by every credential-bearing RPC."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        plans: PlanTable,
        models: ModelTable,
        quotas: QuotaStore,
        usage: UsageLog,
        clock: Clock = utc_now,
        notifier: Notifier | None = None,
    ) -> None:
        self._engine = engine
        self._plans = plans
        self._models = models
        self._quotas = quotas
        self._usage = usage
        self._clock = clock
        self._notifier = notifier
        self._cache = CredentialCache()
        self._touched: dict[str, dt.datetime] = {}

    @property
    def quotas(self) -> QuotaStore:
        return self._quotas

    @property
    def usage(self) -> UsageLog:
        return self._usage

    async def _load(self, credential: str, digest: str) -> CachedPrincipal:
        """Reads the epoch, then the credential's row, and caches the pair."""
        async with self._engine.connect() as conn:
            epoch = await database_epoch(conn)
            principal = await authenticate(conn=conn, credential=credential)
        self._cache.put(digest, principal, epoch)
        entry = self._cache.get(digest)
        assert entry is not None
        return entry

    def plan_of(self, principal: Principal, now: dt.datetime) -> Plan:
        key = principal.plan_at(now)
        plan = self._plans.get(key)
        if plan is None:
            log.warning("user %s has plan %r, not in the plan table", principal.user_id, key)
            plan = self._plans.default_plan
        return plan

    async def caller(self, credential: str) -> tuple[Principal, Plan]:
        """The verified (fresh) principal and plan behind ``credential``; one epoch read."""
        digest = hash_token(credential)
        entry = self._cache.get(digest)
        if entry is None or entry.epoch != await self._quotas.epoch():
            self._cache.clear()
            entry = await self._load(credential, digest)
        if entry.principal.blocked:
            raise AccountBlocked()
        return entry.principal, self.plan_of(entry.principal, self._clock())

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
        digest = hash_token(credential)
        entry = self._cache.get(digest)
        fresh = entry is None
        if entry is None:
            entry = await self._load(credential, digest)
        try:
            return await self._admit(entry, kind, model, units, final=fresh)
        except _Stale:
            self._cache.clear()
            entry = await self._load(credential, digest)
            return await self._admit(entry, kind, model, units, final=True)

    async def _check_fresh(self, entry: CachedPrincipal, final: bool) -> None:
        if not final and entry.epoch != await self._quotas.epoch():
            raise _Stale()

    async def _admit(
        self, entry: CachedPrincipal, kind: str, model: str, units: int, *, final: bool
    ) -> Authorization:
        principal, now = entry.principal, self._clock()
        try:
            if principal.blocked:
                raise AccountBlocked()
            require_scope(principal.scopes, kind)
            plan = self.plan_of(principal, now)
            model_id = self._model_for(kind, model, plan)
        except (AccountBlocked, InsufficientScope, ModelNotInPlan):
            await self._check_fresh(entry, final)
            raise
        day = quota_day(now)
        limit = plan.limits.for_kind(kind)
        if limit is None:
            await self._check_fresh(entry, final)
        else:
            result = await self._quotas.reserve(
                user_id=principal.user_id, kind=kind, day=day, units=units, limit=limit
            )
            if result.epoch != entry.epoch and not final:
                if result.admitted:
                    await self._quotas.refund(
                        user_id=principal.user_id, kind=kind, day=day, units=units
                    )
                raise _Stale()
            if not result.admitted:
                raise quota_exceeded(kind=kind, limit=limit, used=result.used, now=now)
            notifications.quota_reserved(
                self._notifier,
                user_id=principal.user_id,
                kind=kind,
                used=result.used,
                units=units,
                limit=limit,
                day=day,
            )
        self._touch(principal, now)
        reservation = Reservation(
            reservations.new_record_id(),
            principal.user_id,
            principal.credential_id,
            kind,
            model_id,
            units,
            day,
            now,
            principal.app_id,
        )
        return Authorization(principal, plan, reservations.encode(reservation), model_id)

    def _touch(self, principal: Principal, now: dt.datetime) -> None:
        last = self._touched.get(principal.credential_id) or principal.last_used_at
        if last is None or now - _aware(last) >= TOUCH_INTERVAL:
            if len(self._touched) > 100_000:
                self._touched.clear()
            self._touched[principal.credential_id] = now
            self._usage.touch(principal.credential_id, now)

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
        res = reservations.decode(reservation_id)
        used = 0
        if status == STATUS_SUCCEEDED:
            used = min(res.units, units_used) if units_used > 0 else res.units
        row = usage_row(res, status, used, tokens, latency_ms, self._clock())
        refunds = res.kind in LIMITED_KINDS and used < res.units
        if not await self._usage.settle(row, refunds=refunds):
            return False
        if refunds:
            await self._quotas.refund(
                user_id=res.user_id, kind=res.kind, day=res.day, units=res.units - used
            )
        return True

    def record_api_call(self, principal: Principal) -> None:
        """Counts a call that reserves nothing (usage, models) in the usage records."""
        now = self._clock()
        res = Reservation(
            reservations.new_record_id(),
            principal.user_id,
            principal.credential_id,
            API_CALL,
            "",
            1,
            quota_day(now),
            now,
            principal.app_id,
        )
        self._usage.enqueue(usage_row(res, STATUS_SUCCEEDED, 0, TokenCounts(), 0, now))
        self._touch(principal, now)

    async def list_models(self, *, credential: str) -> list[ModelSpec]:
        """The plan's chat models and every image model, in model-table order."""
        principal, plan = await self.caller(credential)
        self.record_api_call(principal)
        return [m for m in self._models if m.kind == "image" or plan.allows_model(m.id)]
