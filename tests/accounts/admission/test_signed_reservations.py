"""Reservation ids are signed: a forged or altered id is refused by Settle and gives
nothing back; a replayed genuine one changes nothing and is not an error; an open
reservation is journaled and the sweep settles it as abandoned, counted as used."""

from __future__ import annotations

import base64
import datetime as dt

import grpc
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.usage.abandoned import settle_abandoned
from tests.support.accounts import Account, exhaust, used_today
from tests.support.clock import FakeClock

Stub = accounts_grpc.AccountsServiceStub


def _refund(reservation_id: str) -> accounts_pb.SettleRequest:
    return accounts_pb.SettleRequest(
        reservation_id=reservation_id, outcome=accounts_pb.OUTCOME_FAILED
    )


def _with_units(reservation_id: str, units: int) -> str:
    """The id with its payload's units changed, the signature kept."""
    record, payload, signature = reservation_id.split(".")
    fields = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields[4] = units
    forged = base64.urlsafe_b64encode(orjson.dumps(fields)).decode().rstrip("=")
    return f"{record}.{forged}.{signature}"


async def test_a_forged_settle_is_refused(stub: Stub, account: Account) -> None:
    reserved = await exhaust(stub, account)
    genuine = reserved[0]
    for forged in (
        _with_units(genuine, 20),  # refund the whole day
        genuine.rpartition(".")[0],  # unsigned, as ids were before
        genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Settle(_refund(forged))
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert await used_today(stub, account) == 20


async def test_a_replayed_settle_changes_nothing(stub: Stub, account: Account) -> None:
    reserved = await exhaust(stub, account)
    await stub.Settle(_refund(reserved[0]))
    await stub.Settle(_refund(reserved[0]))  # no error, no second refund
    succeeded = accounts_pb.SettleRequest(
        reservation_id=reserved[0], outcome=accounts_pb.OUTCOME_SUCCEEDED
    )
    await stub.Settle(succeeded)  # a settled reservation is never changed again
    assert await used_today(stub, account) == 19


async def test_the_sweep_settles_open_reservations_as_abandoned(
    stub: Stub, account: Account, engine: AsyncEngine, clock: FakeClock
) -> None:
    reserved = await exhaust(stub, account, limit=3)
    assert await used_today(stub, account) == 3  # also writes the journal rows
    assert await settle_abandoned(engine, clock(), dt.timedelta(minutes=15)) == 0
    later = clock() + dt.timedelta(minutes=16)
    assert await settle_abandoned(engine, later, dt.timedelta(minutes=15)) == 3
    await stub.Settle(_refund(reserved[0]))  # too late: a no-op, not an error
    assert await used_today(stub, account) == 3  # counted as used
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(records.c.status, records.c.units).where(
                    records.c.user_id == account.user_id, records.c.kind == "chat"
                )
            )
        ).all()
    assert sorted(rows) == [("abandoned", 1)] * 3
