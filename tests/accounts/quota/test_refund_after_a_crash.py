"""A refund cut off by a crash. With Redis counters the settled record is written first and
the refund follows; a ``kill -9`` between the two leaves the record settled as failed and
the unit still counted. The edge, which got no answer, sends the Settle again: that one
must give the unit back, and only once however often it comes.

The state the crash leaves is made directly (the record settled in SQL, Redis untouched),
then Settle is called over real gRPC. (With SQL counters both are one transaction, so
that state cannot arise.)"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.usage.log import FLUSH_INTERVAL_S
from tests.support.accounts import Account, Stub, chat_request, used_today
from tests.support.ledger import record_id


@pytest.mark.parametrize(
    "quota_store", [pytest.param("redis", marks=pytest.mark.redis)], indirect=True
)
async def test_a_repeated_settle_makes_the_refund_a_crash_cut_off_once(
    stub: Stub, account: Account, engine: AsyncEngine
) -> None:
    rid = (await stub.Authorize(chat_request(account))).reservation_id
    await stub.Authorize(chat_request(account))  # another one, left open
    assert await used_today(stub, account) == 2
    await asyncio.sleep(FLUSH_INTERVAL_S * 4)  # the journal rows are written
    async with engine.begin() as conn:  # the record settled, then the crash
        changed = await conn.execute(
            sa.update(records)
            .where(records.c.id == record_id(rid), records.c.status == "reserved")
            .values(status="failed", units=0, settled_at=sa.func.now())
        )
    assert changed.rowcount == 1
    assert await used_today(stub, account) == 2

    settle = accounts_pb.SettleRequest(reservation_id=rid, outcome=accounts_pb.OUTCOME_FAILED)
    for _ in range(3):
        await stub.Settle(settle)
        assert await used_today(stub, account) == 1
