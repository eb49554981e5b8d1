"""Stand-ins for what the edge calls, for unit tests of its plumbing: an accounts stub that
records settlements, and a failed gRPC call with a status code."""

from __future__ import annotations

import asyncio

import grpc

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb


class RpcFailure(grpc.RpcError):
    """A failed call as grpc.aio raises it: a status code and details, no ErrorInfo."""

    def __init__(self, code: grpc.StatusCode, details: str = "failed") -> None:
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return ()


class FakeAccounts:
    """Authorize grants every request (or raises ``refusal``); SettleMany records each
    settlement, after ``settle_delay_s``."""

    def __init__(self) -> None:
        self.settled: list[accounts_pb.SettleRequest] = []
        self.refusal: grpc.RpcError | None = None
        self.settle_delay_s = 0.0

    async def Authorize(
        self, request: accounts_pb.AuthorizeRequest, **_options: object
    ) -> accounts_pb.AuthorizeResponse:
        if self.refusal is not None:
            raise self.refusal
        return accounts_pb.AuthorizeResponse(reservation_id="rsv_1", model=request.model)

    async def SettleMany(
        self, request: accounts_pb.SettleManyRequest, **_options: object
    ) -> accounts_pb.SettleManyResponse:
        await asyncio.sleep(self.settle_delay_s)
        self.settled.extend(request.settlements)
        return accounts_pb.SettleManyResponse()
