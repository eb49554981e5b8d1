"""Authorize before the work, settle after it: the edge's two calls to accounts.

Routes hold a reservation with :meth:`Accounting.reserved`, which settles when the work
ends, whichever way it ends; a stream, which outlives its route, settles through
:meth:`Accounting.conclude` (``edge/openai/chat_stream.py``).

Billing, as OpenAI bills: once content has been sent to the client the request counts,
whether it finished, the client hung up or the upstream failed mid-way: one unit per
choice that delivered content, and the tokens generated (the upstream's usage where it
arrived, else ``estimated_usage``: the characters sent / 4, rounded up). A request that
sent nothing is refunded. :meth:`Accounting.conclude` is the one place of that rule.

Settling runs in the background once the outcome is known, so the caller does not wait
for it, and it happens even when the client went away mid-request; only an answer after a
failure waits for its refund (``settle``), so that a retry at once finds the quota. Settlements are
gathered for ``SETTLE_WINDOW_S`` (or up to ``MAX_SETTLE_BATCH``) and sent as one
``SettleMany`` call: under load one RPC settles many requests instead of one each. A
refund is not held back: it goes out at once, with whatever is queued.
Settling is idempotent (a settled reservation is never changed again), so a batch that
failed is sent again, with backoff (``SETTLE_RETRY_DELAYS_S``, then every
``SETTLE_RETRY_MAX_S``), for as long as the edge lives: an accounts restart loses
nothing. What waits is bounded (``MAX_UNSENT``, the oldest dropped first, logged); its
depth is :attr:`Accounting.unsent` (the status endpoint shows it). A reservation that
never gets settled (the edge crashed) is settled by the accounts service itself after
its deadline, as ``abandoned``. Pending settlements are drained when the edge stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from contextvars import Context
from dataclasses import dataclass, field
from typing import TypeVar

import grpc
from starlette.requests import Request

from drafter import metrics, tracing
from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.edge.server.http_protocol import ON_DISCONNECT, DisconnectWatch
from drafter.request_scope import note_model
from drafter.token_estimate import estimated_tokens

log = logging.getLogger("drafter.edge")
_T = TypeVar("_T")

SETTLE_WINDOW_S = 0.01
# How long an answer after a failure waits for its refund to reach the accounts service.
REFUND_WAIT_S = 2.0
MAX_SETTLE_BATCH = 256
SETTLE_RETRY_DELAYS_S = (0.1, 0.5, 2.0)
SETTLE_RETRY_MAX_S = 5.0
# Settlements waiting to be sent again, at most (about 100 bytes each).
MAX_UNSENT = 100_000
# How long drain() keeps retrying at shutdown before it gives the rest up (logged; the
# accounts service settles them as abandoned after their deadline).
DRAIN_LIMIT_S = 10.0


@dataclass(frozen=True, slots=True)
class Reservation:
    """What Authorize granted, and when the work started."""

    id: str
    caller: accounts_pb.Caller
    model: str
    started: float
    units: int = 1


@dataclass(slots=True)
class Settlement:
    """A reservation and what its work used so far: the units delivered (choices, images)
    and the tokens, recorded by the route or stream as the work goes."""

    reservation: Reservation
    units_used: int = 0
    usage: usage_pb.TokenUsage | None = None
    # Choices that sent content to the client, and the characters sent (streams).
    delivered: set[int] = field(default_factory=set)
    delivered_chars: int = 0
    # When the first content went out (monotonic; 0: none yet): the time to first token.
    first_at: float = 0.0

    def deliver(self, choice_index: int, chars: int) -> None:
        """Content of ``choice_index`` went to the client (from then on, it counts)."""
        if not self.first_at:
            self.first_at = time.monotonic()
        self.delivered.add(choice_index)
        self.delivered_chars += chars


def estimated_usage(settlement: Settlement) -> usage_pb.TokenUsage:
    """The upstream's usage, or output tokens counted from what was sent (chars / 4)."""
    if settlement.usage is not None:
        return settlement.usage
    return usage_pb.TokenUsage(output_tokens=estimated_tokens(settlement.delivered_chars))


class ClientDisconnected(Exception):
    """The HTTP client went away while its request was being worked on."""


# nginx's status for a request its client closed; nobody reads it.
CLIENT_CLOSED_REQUEST = 499
# How often a request waiting for its work looks whether its client is still there.
DISCONNECT_POLL_S = 0.25


async def unless_disconnected(request: Request, work: Awaitable[_T]) -> _T:
    """Awaits ``work`` (a gRPC call), watching the client: when it goes away the work is
    cancelled (and, behind a gRPC call, the upstream request) and ClientDisconnected
    raised (:meth:`Accounting.reserved` refunds it). Drafter's HTTP server says at once
    that the client left (``ON_DISCONNECT``); under another server the request looks
    every ``DISCONNECT_POLL_S``."""
    watch = request.scope.get("extensions", {}).get(ON_DISCONNECT)
    if watch is not None:
        return await _unless_told_gone(watch, work)
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait((task,), timeout=DISCONNECT_POLL_S)
            if done:
                return task.result()
            if await request.is_disconnected():
                raise ClientDisconnected()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.RpcError):
                await task


async def _unless_told_gone(watch: DisconnectWatch, work: Awaitable[_T]) -> _T:
    task = asyncio.ensure_future(work)
    left = False

    def gone() -> None:
        nonlocal left
        left = True
        task.cancel()

    watch(gone)
    try:
        return await task
    except asyncio.CancelledError:
        if left and task.cancelled():
            current = asyncio.current_task()
            if current is None or current.cancelling() == 0:  # not cancelled itself
                raise ClientDisconnected() from None
        raise
    finally:
        watch(None)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.RpcError):
                await task


def outcome_of_failure(code: grpc.StatusCode) -> accounts_pb.Outcome:
    """The caller's own mistakes are rejected; everything else failed on our side."""
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
        return accounts_pb.OUTCOME_REJECTED
    if code == grpc.StatusCode.CANCELLED:
        return accounts_pb.OUTCOME_CANCELLED
    return accounts_pb.OUTCOME_FAILED


class Accounting:
    """The edge's side of quota: authorizes (one Authorize per request) and settles in
    batches; one per app, built in the lifespan and drained when it stops."""

    def __init__(self, accounts: accounts_grpc.AccountsServiceStub, timeout_s: float) -> None:
        self._accounts = accounts
        self._timeout_s = timeout_s
        self._queued: list[accounts_pb.SettleRequest] = []
        self._timer: asyncio.TimerHandle | None = None
        self._pending: set[asyncio.Task[None]] = set()
        # Settlements whose batch failed, waiting to be sent again (oldest first).
        self._unsent: deque[accounts_pb.SettleRequest] = deque()
        self._retrier: asyncio.Task[None] | None = None
        # Settlements in batches being sent (or retried at once) by ``_settle``.
        self._sending = 0
        self.dropped = 0
        metrics.watch_settlement_queue(lambda: self.unsent)

    @property
    def unsent(self) -> int:
        """Settlements waiting for the accounts service (the queue's depth): queued for
        the next batch, being sent, or kept to be sent again."""
        return len(self._queued) + self._sending + len(self._unsent)

    def queue_status(self) -> dict[str, int]:
        """The settlement queue of this edge process, for ``/api/v1/status``: its depth
        (``unsent``) and how many settlements it ever dropped when full (``dropped``)."""
        return {"unsent": self.unsent, "dropped": self.dropped}

    async def authorize(
        self, credential: str, kind: accounts_pb.UsageKind, model: str = "", units: int = 1
    ) -> Reservation:
        """Authenticates, checks the plan and reserves quota; a refusal raises the
        ``grpc.RpcError``, which the app's handler (``edge/errors.py``) answers."""
        request = accounts_pb.AuthorizeRequest(
            credential=credential, kind=kind, model=model, units=units
        )
        response = await self._accounts.Authorize(request, timeout=self._timeout_s)
        note_model(response.model)
        return Reservation(
            response.reservation_id, response.caller, response.model, time.monotonic(), units
        )

    @contextlib.asynccontextmanager
    async def reserved(
        self, credential: str, kind: accounts_pb.UsageKind, model: str = "", units: int = 1
    ) -> AsyncIterator[Settlement]:
        """Authorizes, then settles when the block ends: succeeded with what the block
        recorded on the yielded :class:`Settlement`; after a failed call with the outcome
        of its gRPC status (the exception goes on to the app's handler once the refund is
        in); after a cancellation in the background."""
        settlement = Settlement(await self.authorize(credential, kind, model, units))
        try:
            yield settlement
        except grpc.RpcError as exc:
            await self.conclude(settlement, outcome_of_failure(exc.code()))
            raise
        except (asyncio.CancelledError, ClientDisconnected):
            await self.conclude(settlement, accounts_pb.OUTCOME_CANCELLED)  # never waits
            raise
        except Exception:
            await self.conclude(settlement, accounts_pb.OUTCOME_FAILED)
            raise
        await self.conclude(settlement, accounts_pb.OUTCOME_SUCCEEDED)

    async def conclude(self, settlement: Settlement, outcome: accounts_pb.Outcome) -> None:
        """Settles the work with ``outcome``; output already delivered counts (see the
        module's "Billing"), so a failed or cancelled work that sent content settles as
        succeeded, one unit per choice that sent any."""
        units = max(settlement.units_used, len(settlement.delivered))
        usage = estimated_usage(settlement) if units else settlement.usage
        if outcome != accounts_pb.OUTCOME_SUCCEEDED and units:
            outcome = accounts_pb.OUTCOME_SUCCEEDED
        first = settlement.first_at and settlement.first_at - settlement.reservation.started
        metrics.record_settled(settlement.reservation.model, usage, first)
        await self.settle(settlement.reservation, outcome, units_used=units, usage=usage)

    async def settle(
        self,
        reservation: Reservation,
        outcome: accounts_pb.Outcome,
        *,
        units_used: int = 0,
        usage: usage_pb.TokenUsage | None = None,
    ) -> None:
        """Settles in the background (:meth:`settle_soon`), and when units go back also
        waits (up to REFUND_WAIT_S) until the accounts service has them, so that the answer
        telling the caller of a failure comes after their quota is restored and a retry at
        once finds it. A cancelled request has nobody to answer: it never waits."""
        sent = self.settle_soon(reservation, outcome, units_used=units_used, usage=usage)
        if sent is not None and outcome != accounts_pb.OUTCOME_CANCELLED:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(sent), REFUND_WAIT_S)

    def settle_soon(
        self,
        reservation: Reservation,
        outcome: accounts_pb.Outcome,
        *,
        units_used: int = 0,
        usage: usage_pb.TokenUsage | None = None,
    ) -> asyncio.Task[None] | None:
        """Settles in the background; never raises, never blocks the response. A
        settlement that gives units back goes out at once (with what is queued): the
        sending task is returned then."""
        tracing.mark(
            "Settle", {"drafter.reservation_id": reservation.id, "drafter.outcome": outcome}
        )
        self._queued.append(
            accounts_pb.SettleRequest(
                reservation_id=reservation.id,
                outcome=outcome,
                units_used=units_used,
                usage=usage,
                latency_ms=int((time.monotonic() - reservation.started) * 1000),
            )
        )
        refunds = outcome != accounts_pb.OUTCOME_SUCCEEDED or 0 < units_used < reservation.units
        if refunds:
            return self._send_queued()
        if len(self._queued) >= MAX_SETTLE_BATCH:
            self._send_queued()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(SETTLE_WINDOW_S, self._send_queued)
        return None

    def _send_queued(self) -> asyncio.Task[None] | None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._queued = self._queued, []
        if not batch:
            return None
        # A batch belongs to no one request: it runs outside their trace and log scope.
        task = asyncio.get_running_loop().create_task(self._settle(batch), context=Context())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def _send(self, batch: list[accounts_pb.SettleRequest]) -> bool:
        """One SettleMany; False when it should be sent again."""
        request = accounts_pb.SettleManyRequest(settlements=batch)
        try:
            response = await self._accounts.SettleMany(request, timeout=self._timeout_s)
        except grpc.RpcError as exc:
            log.warning("settling %d reservations failed (will retry): %s", len(batch), exc.code())
            return False
        for failure in response.failures:
            log.error("settling a reservation failed: %s", failure.message)
        return True

    async def _settle(self, batch: list[accounts_pb.SettleRequest]) -> None:
        """Sends a batch, retrying a few times at once; then it joins the unsent queue,
        which one background task keeps retrying for as long as the edge lives."""
        self._sending += len(batch)
        try:
            sent = await self._send_soon(batch)
        finally:
            self._sending -= len(batch)
        if not sent:
            self._keep(batch)

    async def _send_soon(self, batch: list[accounts_pb.SettleRequest]) -> bool:
        for delay in SETTLE_RETRY_DELAYS_S:
            if await self._send(batch):
                return True
            await asyncio.sleep(delay)
        return await self._send(batch)

    def _keep(self, batch: list[accounts_pb.SettleRequest]) -> None:
        self._unsent.extend(batch)
        overflow = len(self._unsent) - MAX_UNSENT
        if overflow > 0:
            for _ in range(overflow):
                self._unsent.popleft()
            self.dropped += overflow
            log.error(
                "settlement queue full (%d): dropped the %d oldest settlements (the accounts "
                "service settles them as abandoned after their deadline)",
                MAX_UNSENT,
                overflow,
            )
        if self._retrier is None or self._retrier.done():
            self._retrier = asyncio.get_running_loop().create_task(self._retry_unsent())

    async def _retry_unsent(self) -> None:
        delay = SETTLE_RETRY_DELAYS_S[-1]
        while self._unsent:
            await asyncio.sleep(delay)
            batch = [self._unsent[i] for i in range(min(MAX_SETTLE_BATCH, len(self._unsent)))]
            if await self._send(batch):
                for _ in batch:
                    self._unsent.popleft()
                delay = SETTLE_RETRY_DELAYS_S[0]
            else:
                delay = min(delay * 2, SETTLE_RETRY_MAX_S)

    async def drain(self, limit_s: float = DRAIN_LIMIT_S) -> None:
        """Sends what is queued and waits for every pending settlement (at shutdown),
        retrying the unsent ones for up to ``limit_s``."""
        self._send_queued()
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        if self._retrier is not None and not self._retrier.done():
            try:
                await asyncio.wait_for(self._retrier, limit_s)
            except TimeoutError:
                log.error("stopping with %d settlements unsent", len(self._unsent))
