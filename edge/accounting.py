"""Authorize before the work, settle after it: the edge's two calls to accounts.

Settling runs in the background once the outcome is known, so the caller does not wait
for it, and it happens even when the client went away mid-request. Pending settlements
are drained when the edge stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import grpc

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from edge.errors import api_error_from_rpc

log = logging.getLogger("drafter.edge")


@dataclass(frozen=True, slots=True)
class Reservation:
    """What Authorize granted, and when the work started."""

    id: str
    caller: accounts_pb.Caller
    model: str
    started: float


def outcome_of_failure(code: grpc.StatusCode) -> int:
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
    def __init__(self, accounts: accounts_grpc.AccountsServiceStub, timeout_s: float) -> None:
        self._accounts = accounts
        self._timeout_s = timeout_s
        self._pending: set[asyncio.Task[None]] = set()

    async def authorize(
        self, credential: str, kind: int, model: str = "", units: int = 1
    ) -> Reservation:
        """Authenticates, checks the plan and reserves quota; raises the mapped APIError."""
        request = accounts_pb.AuthorizeRequest(
            credential=credential, kind=kind, model=model, units=units
        )
        try:
            response = await self._accounts.Authorize(request, timeout=self._timeout_s)
        except grpc.RpcError as exc:
            raise api_error_from_rpc(exc) from None
        return Reservation(
            response.reservation_id, response.caller, response.model, time.monotonic()
        )

    def settle_soon(
        self,
        reservation: Reservation,
        outcome: int,
        *,
        units_used: int = 0,
        usage: accounts_pb.TokenUsage | None = None,
    ) -> None:
        """Settles in the background; never raises, never blocks the response."""
        request = accounts_pb.SettleRequest(
            reservation_id=reservation.id,
            outcome=outcome,
            units_used=units_used,
            usage=usage,
            latency_ms=int((time.monotonic() - reservation.started) * 1000),
        )
        task = asyncio.get_running_loop().create_task(self._settle(request))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _settle(self, request: accounts_pb.SettleRequest) -> None:
        try:
            await self._accounts.Settle(request, timeout=self._timeout_s)
        except grpc.RpcError as exc:
            log.error("settling reservation failed: %s %s", exc.code(), exc.details())

    async def drain(self) -> None:
        """Waits for every pending settlement (at shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
