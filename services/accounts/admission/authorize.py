"""The hot path: Authorize (authenticate, check the plan, reserve quota) and Settle
(commit or refund, record usage).

Per request pair, in the steady state:

* Authorize: the credential comes from the in-memory cache (``credential_cache``), and
  the quota store reserves the units and reads the credentials epoch in ONE round trip
  (one Redis script, or one SQL upsert). The reservation id carries the reservation,
  signed (``reservations``). Its journal row (status ``reserved``) is kept with the count
  by the quota store (the same SQL statement; the same Redis script, until the usage
  log's next batch writes it; the in-memory store needs none), so no round trip of its
  own and no crash between the two; an unsettled reservation is found and settled as
  abandoned by the sweep (``usage.abandoned``).
* Settle: the usage record is written once (``usage.log``): batched with others when
  nothing is given back (the servicer awaits the batch before it answers); when units go
  back, one statement that also guards against settling twice, and the refund, made by
  the quota store so that no crash keeps one without the other. Settling again is a
  no-op, never an error.

A cached credential whose epoch has moved is dropped and looked up again, with the
reserved units given back first, so revocation, blocking and plan changes apply to the
very next request in every replica.

``Admission`` also answers "who is calling, on which plan" for the other credential-bearing
RPCs (ListModels, GetUsage), and counts those calls as ``apiCall`` usage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter import reservations
from drafter.metrics import record_quota
from drafter.model_table import ModelSpec, ModelTable
from drafter.reservations import Reservation
from drafter.rpc.errors import InvalidRequest
from drafter.services.accounts.admission.credential_cache import (
    CachedPrincipal,
    CredentialCache,
    database_epoch,
)
from drafter.services.accounts.admission.credentials import Principal, authenticate
from drafter.services.accounts.errors import AccountBlocked, ModelNotInPlan
from drafter.services.accounts.notifications.notifier import (
    Notifier,
    quota_committed,
    quota_reserved,
)
from drafter.services.accounts.oauth.rules import InsufficientScope, require_scope
from drafter.services.accounts.plans.in_force import plan_in_force
from drafter.services.accounts.plans.table import Plan, PlanTable
from drafter.services.accounts.quota.store import QuotaStore, Row, quota_day, quota_exceeded
from drafter.services.accounts.usage.log import TokenCounts, UsageLog, journal_row, usage_row
from drafter.services.accounts.users.tokens import hash_token
from drafter.services.accounts.vocab import LIMITED_KINDS, Outcome, UsageKind
from drafter.timeutil import Clock, utc_now

KINDS = frozenset(UsageKind)
# What a caller may settle with (``ABANDONED`` is the sweep's own).
OUTCOMES = frozenset(Outcome) - {Outcome.ABANDONED}
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
        reservation_key: bytes,
        clock: Clock = utc_now,
        notifier: Notifier | None = None,
    ) -> None:
        self._engine = engine
        self._key = reservation_key
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
        return plan_in_force(principal, self._plans, now)

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
            if kind == UsageKind.CHAT:
                raise InvalidRequest("A model is required.", metadata={"param": "model"})
            return ""
        spec = self._models.resolve(name)
        if kind != UsageKind.CHAT:
            return spec.id
        if spec.kind != "chat":
            raise InvalidRequest(f"`{name}` is not a chat model.", metadata={"param": "model"})
        if not plan.allows_model(spec.id):
            raise ModelNotInPlan(
                f"The model `{spec.id}` is not available on the {plan.name} plan; it allows "
                f"{', '.join(f'`{m}`' for m in plan.models)}.",
                metadata={"model": spec.id, "plan": plan.key},
            )
        return spec.id

    async def authorize(
        self, *, credential: str, kind: str, model: str, units: int
    ) -> Authorization:
        """Authenticates, checks the plan and reserves ``units`` of today's ``kind`` quota
        (``kind`` a ``UsageKind`` name)."""
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
        """Checks the caller, then reserves; ``final``: the entry was just read, so no
        refusal or reservation needs the epoch checked again."""
        principal, now = entry.principal, self._clock()
        plan, model_id = await self._allowed(entry, kind, model, now, final=final)
        limit = plan.limits.for_kind(kind)
        reservation = _reservation(principal, kind, model_id, units, now)
        journal = journal_row(reservation, now)
        journaled = False
        if limit is None:
            await self._check_fresh(entry, final)
        else:
            journaled = await self._reserve(entry, journal, plan, limit, now, final=final)
        self._touch(principal, now)
        if not journaled:
            self._usage.enqueue(journal)
        return Authorization(principal, plan, reservations.encode(reservation, self._key), model_id)

    async def _allowed(
        self, entry: CachedPrincipal, kind: str, model: str, now: dt.datetime, *, final: bool
    ) -> tuple[Plan, str]:
        """The plan in force and the canonical model id. A refusal from a cached entry
        stands only while the epoch has not moved (the change may have lifted it)."""
        principal = entry.principal
        try:
            if principal.blocked:
                raise AccountBlocked()
            require_scope(principal.scopes, kind)
            plan = self.plan_of(principal, now)
            return plan, self._model_for(kind, model, plan)
        except (AccountBlocked, InsufficientScope, ModelNotInPlan):
            await self._check_fresh(entry, final)
            raise

    async def _reserve(
        self,
        entry: CachedPrincipal,
        journal: Row,
        plan: Plan,
        limit: int,
        now: dt.datetime,
        *,
        final: bool,
    ) -> bool:
        """Reserves the journal row's units of today's quota; the epoch read with it must
        match the entry's (else the reservation goes back and the entry is stale).
        Returns whether the store wrote the journal row with it."""
        user_id, kind, day = entry.principal.user_id, journal["kind"], journal["quota_day"]
        result = await self._quotas.reserve(
            user_id=user_id,
            kind=kind,
            day=day,
            units=journal["units_reserved"],
            limit=limit,
            journal=journal,
        )
        if result.epoch != entry.epoch and not final:
            if result.admitted:
                await self._quotas.release(journal=journal)
            raise _Stale()
        record_quota(plan.key, kind, result.admitted)
        if not result.admitted:
            raise quota_exceeded(kind=kind, limit=limit, used=result.used, now=now)
        quota_reserved(
            self._notifier, user_id=user_id, kind=kind, used=result.used, limit=limit, day=day
        )
        return result.journaled

    def _touch(self, principal: Principal, now: dt.datetime) -> None:
        last = self._touched.get(principal.credential_id) or principal.last_used_at
        if last is None or now - last >= TOUCH_INTERVAL:
            if len(self._touched) > 100_000:
                self._touched.clear()
            self._touched[principal.credential_id] = now
            self._usage.touch(principal.credential_id, now)

    async def settle(
        self,
        *,
        reservation_id: str,
        outcome: str,
        units_used: int,
        tokens: TokenCounts,
        latency_ms: int,
    ) -> bool:
        """Commits (``Outcome.SUCCEEDED``) or refunds a reservation and records its usage.
        Returns False when it was already settled (a no-op). ``units_used`` 0 on success
        means every reserved unit was used."""
        if outcome not in OUTCOMES:
            raise InvalidRequest(f"Unknown outcome '{outcome}'.", metadata={"param": "outcome"})
        res = reservations.decode(reservation_id, self._key)
        used = 0
        if outcome == Outcome.SUCCEEDED:
            used = min(res.units, units_used) if units_used > 0 else res.units
        row = usage_row(res, outcome, used, tokens, latency_ms, self._clock())
        if res.kind in LIMITED_KINDS and used < res.units:
            refund = res.units - used
            if not await self._quotas.settle_refund(settled=row, units=refund, usage=self._usage):
                return False
        else:
            self._usage.enqueue(row)
        if used:  # quota warnings count committed usage only
            quota_committed(
                self._notifier,
                user_id=res.user_id,
                kind=res.kind,
                day=res.day,
                written=self._usage.written,
            )
        return True

    async def settled(self) -> None:
        """Returns once every settlement made so far is written (before Settle answers)."""
        await self._usage.written()

    def record_api_call(self, principal: Principal) -> None:
        """Counts a call that reserves nothing (usage, models) in the usage records."""
        now = self._clock()
        res = _reservation(principal, UsageKind.API_CALL, "", 1, now)
        self._usage.enqueue(usage_row(res, Outcome.SUCCEEDED, 0, TokenCounts(), 0, now))
        self._touch(principal, now)

    async def list_models(self, *, credential: str) -> list[ModelSpec]:
        """The plan's chat models and every image model, in model-table order."""
        principal, plan = await self.caller(credential)
        self.record_api_call(principal)
        return [m for m in self._models if m.kind == "image" or plan.allows_model(m.id)]


def _reservation(
    principal: Principal, kind: str, model_id: str, units: int, now: dt.datetime
) -> Reservation:
    return Reservation(
        reservations.new_record_id(),
        principal.user_id,
        principal.credential_id,
        kind,
        model_id,
        units,
        quota_day(now),
        now,
        principal.app_id,
    )
