"""Prompt-cache tokens counted apart by the usage API and the history (on SQLite and
PostgreSQL), as part of the prompt tokens."""

from __future__ import annotations

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from tests.accounts.usage.test_usage import CHAT, Stub, spend, usage_of
from tests.support.accounts import Account

SUCCEEDED = accounts_pb.OUTCOME_SUCCEEDED


async def test_usage_counts_cache_reads_and_writes_apart(stub: Stub, account: Account) -> None:
    await spend(
        stub,
        account,
        1,
        SUCCEEDED,
        input_tokens=10,
        cache_creation_input_tokens=4_000,
        output_tokens=5,
    )
    await spend(
        stub, account, 2, SUCCEEDED, input_tokens=12, cache_read_input_tokens=4_000, output_tokens=6
    )

    usage = await usage_of(stub, account)
    assert usage.tokens == (10 + 4_000 + 5) + 2 * (12 + 4_000 + 6)
    assert (usage.cache_read_tokens, usage.cache_creation_tokens) == (8_000, 4_000)

    reply = await stub.GetUsageHistory(accounts_pb.GetUsageHistoryRequest(user_id=account.user_id))
    [day] = [d for d in reply.days if d.kind == CHAT]  # the usage call is a row of its own
    assert (day.kind, day.requests, day.input_tokens, day.output_tokens) == (
        CHAT,
        3,
        10 + 4_000 + 2 * (12 + 4_000),
        17,
    )
    assert (day.cache_read_tokens, day.cache_creation_tokens) == (8_000, 4_000)
