"""Authorize before the work, settle after it: the edge's two calls to accounts.

Routes hold a reservation with :meth:`Accounting.reserved`, which settles when the work
ends, whichever way it ends; a stream, which outlives its route, settles through
:meth:`Accounting.conclude` (``edge/openai/chat_stream.py``). Output already delivered
counts: a failure after some choices finished settles them as used.

Settling runs in the background once the outcome is known, so the caller does not wait
for it, and it happens even when the client went away mid-request; only an answer after a
failure waits for its refund (``settle``), so that a retry at once finds the quota. Settlements are
gathered for ``SETTLE_WINDOW_S`` (or up to ``MAX_SETTLE_BATCH``) and sent as one
``SettleMany`` call: under load one RPC settles many requests instead of one each. A
refund is not held back: it goes out at once, with whatever is queued.
Settling is idempotent, so a batch that failed in transport is sent again
(``SETTLE_RETRY_DELAYS_S``). Pending settlements are drained when the edge stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.chat.v1 import chat_service_pb2 as chat_pb

log = logging.getLogger("drafter.edge")

SETTLE_WINDOW_S = 0.01
# How long an answer after a failure waits for its refund to reach the accounts service.
REFUND_WAIT_S = 2.0
MAX_SETTLE_BATCH = 256
SETTLE_RETRY_DELAYS_S = (0.1, 0.5, 2.0)
_RETRIED_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


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
    usage: accounts_pb.TokenUsage | None = None


def outcome_of_failure(code: grpc.StatusCode) -> accounts_pb.Outcome:
    """The caller's own mistakes are rejected; everything else failed on our side."""
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
        return accounts_pb.OUTCOME_REJECTED
    if code == grpc.StatusCode.CANCELLED:
        return accounts_pb.OUTCOME_CANCELLED
    return accounts_pb.OUTCOME_FAILED


def token_usage_from_chat(usage: chat_pb.Usage | None) -> accounts_pb.TokenUsage | None:
    if usage is None:
        return None
    return accounts_pb.TokenUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
    )


class Accounting:
    """The edge's side of quota: authorizes (one Authorize per request) and settles in
    batches; one per app, built in the lifespan and drained when it stops."""

    def __init__(self, accounts: accounts_grpc.AccountsServiceStub, timeout_s: float) -> None:
        self._accounts = accounts
        self._timeout_s = timeout_s
        self._queued: list[accounts_pb.SettleRequest] = []
        self._timer: asyncio.TimerHandle | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def authorize(
        self, credential: str, kind: accounts_pb.UsageKind, model: str = "", units: int = 1
    ) -> Reservation:
        """Authenticates, checks the plan and reserves quota; a refusal raises the
        ``grpc.RpcError``, which the app's handler (``edge/errors.py``) answers."""
        request = accounts_pb.AuthorizeRequest(
            credential=credential, kind=kind, model=model, units=units
        )
        response = await self._accounts.Authorize(request, timeout=self._timeout_s)
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
        except asyncio.CancelledError:
            await self.conclude(settlement, accounts_pb.OUTCOME_CANCELLED)  # never waits
            raise
        except Exception:
            await self.conclude(settlement, accounts_pb.OUTCOME_FAILED)
            raise
        await self.conclude(settlement, accounts_pb.OUTCOME_SUCCEEDED)

    async def conclude(self, settlement: Settlement, outcome: accounts_pb.Outcome) -> None:
        """Settles the work with ``outcome``; output already delivered counts, so a failed
        or cancelled work that finished some units settles them as succeeded."""
        if outcome != accounts_pb.OUTCOME_SUCCEEDED and settlement.units_used:
            outcome = accounts_pb.OUTCOME_SUCCEEDED
        await self.settle(
            settlement.reservation,
            outcome,
            units_used=settlement.units_used,
            usage=settlement.usage,
        )

    async def settle(
        self,
        reservation: Reservation,
        outcome: accounts_pb.Outcome,
        *,
        units_used: int = 0,
        usage: accounts_pb.TokenUsage | None = None,
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
        usage: accounts_pb.TokenUsage | None = None,
    ) -> asyncio.Task[None] | None:
        """Settles in the background; never raises, never blocks the response. A
        settlement that gives units back goes out at once (with what is queued): the
        sending task is returned then."""
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
        task = asyncio.get_running_loop().create_task(self._settle(batch))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def _settle(self, batch: list[accounts_pb.SettleRequest]) -> None:
        request = accounts_pb.SettleManyRequest(settlements=batch)
        for delay in (*SETTLE_RETRY_DELAYS_S, None):
            try:
                response = await self._accounts.SettleMany(request, timeout=self._timeout_s)
            except grpc.RpcError as exc:
                if delay is None or exc.code() not in _RETRIED_CODES:
                    log.error(
                        "settling %d reservations failed: %s %s",
                        len(batch),
                        exc.code(),
                        exc.details(),
                    )
                    return
                await asyncio.sleep(delay)
            else:
                for failure in response.failures:
                    log.error("settling a reservation failed: %s", failure.message)
                return

    async def drain(self) -> None:
        """Sends what is queued and waits for every pending settlement (at shutdown)."""
        self._send_queued()
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
