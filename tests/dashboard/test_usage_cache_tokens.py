"""The usage page shows today's prompt-cache reads and writes apart from the input tokens
they are part of."""

from __future__ import annotations

import uuid

import httpx

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from tests.dashboard.conftest import post_form
from tests.oauth.conftest import Stubs
from tests.oauth.web_helpers import sign_up


async def test_usage_page_counts_cached_tokens_apart(
    browser: httpx.AsyncClient, stubs: Stubs
) -> None:
    await sign_up(browser, f"cache-{uuid.uuid4().hex[:8]}@example.com")
    created = await post_form(browser, "/dashboard/keys", "/dashboard/keys", name="k")
    key = created.text.split("data-secret>")[1].split("<")[0]
    for usage in (
        usage_pb.TokenUsage(input_tokens=7, cache_creation_input_tokens=5_000, output_tokens=3),
        usage_pb.TokenUsage(input_tokens=9, cache_read_input_tokens=5_000, output_tokens=4),
    ):
        auth = await stubs.accounts.Authorize(
            accounts_pb.AuthorizeRequest(
                credential=key, kind=accounts_pb.USAGE_KIND_CHAT, model="claude-haiku-4-5"
            )
        )
        await stubs.accounts.Settle(
            accounts_pb.SettleRequest(
                reservation_id=auth.reservation_id,
                outcome=accounts_pb.OUTCOME_SUCCEEDED,
                units_used=1,
                usage=usage,
            )
        )
    page = await browser.get("/dashboard/usage")
    assert 'data-stat="inputTokens">10,016<' in page.text
    assert 'data-stat="cachedTokens">5,000<' in page.text
    assert 'data-stat="cacheCreationTokens">5,000<' in page.text
    assert 'data-stat="outputTokens">7<' in page.text
