"""Dashboard pages: sign-in required, real figures, the base URL, plans and codes."""

from __future__ import annotations

import uuid

import httpx
import pytest

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from tests.dashboard.conftest import post_form
from tests.oauth.conftest import Stubs
from tests.oauth.web_helpers import sign_up

PAGES = (
    "/dashboard",
    "/dashboard/keys",
    "/dashboard/usage",
    "/dashboard/plans",
    "/dashboard/docs",
    "/dashboard/apps",
    "/dashboard/connections",
    "/dashboard/support",
    "/dashboard/settings",
)


def new_email() -> str:
    return f"dash-{uuid.uuid4().hex[:8]}@example.com"


@pytest.mark.parametrize("path", PAGES)
async def test_pages_redirect_to_log_in_when_signed_out(
    browser: httpx.AsyncClient, path: str
) -> None:
    response = await browser.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/auth/login?next={path.replace('/', '%2F')}"


async def test_every_page_renders_for_a_signed_in_user(browser: httpx.AsyncClient) -> None:
    email = new_email()
    await sign_up(browser, email)
    for path in PAGES:
        response = await browser.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert response.headers["cache-control"] == "no-store"
    overview = await browser.get("/dashboard")
    assert f"Welcome, {email}" in overview.text
    assert "curl http://testserver/api/v1/chat/completions" in overview.text
    docs = await browser.get("/dashboard/docs")
    assert "http://testserver/api/v1" in docs.text and "claude-opus-4-6" in docs.text
    settings = await browser.get("/dashboard/settings")
    assert "Delete account" in settings.text
    assert "<dt>Plan</dt><dd>Free</dd>" in settings.text  # the plan's name, not its key


async def test_usage_page_shows_todays_figures_and_the_limit(
    browser: httpx.AsyncClient, stubs: Stubs
) -> None:
    await sign_up(browser, new_email())
    created = await post_form(browser, "/dashboard/keys", "/dashboard/keys", name="k")
    key = created.text.split("data-secret>")[1].split("<")[0]
    auth = await stubs.accounts.Authorize(
        accounts_pb.AuthorizeRequest(
            credential=key, kind=accounts_pb.USAGE_KIND_CHAT, model="claude-haiku-4-5", units=1
        )
    )
    await stubs.accounts.Settle(
        accounts_pb.SettleRequest(
            reservation_id=auth.reservation_id,
            outcome=accounts_pb.OUTCOME_SUCCEEDED,
            units_used=1,
            usage=usage_pb.TokenUsage(input_tokens=12, output_tokens=30),
        )
    )
    page = await browser.get("/dashboard/usage")
    assert '<span data-stat="limitUsed">1</span> / 20 requests' in page.text
    assert 'data-stat="inputTokens">12<' in page.text
    assert 'data-stat="outputTokens">30<' in page.text
    assert 'data-stat="totalTokens">42<' in page.text
    assert 'id="reset-countdown" data-reset-in="' in page.text
    assert "1 chat, 0 images" in page.text  # the SVG bar of today
    overview = await browser.get("/dashboard")
    assert 'data-stat="chat">1<' in overview.text


async def test_plans_page_lists_the_plan_table_and_redeems_a_code(
    browser: httpx.AsyncClient, stubs: Stubs
) -> None:
    await sign_up(browser, new_email())
    page = await browser.get("/dashboard/plans")
    assert "€24.99" in page.text and "€7.49" in page.text
    assert 'data-current-plan="free"' in page.text
    bad = await post_form(browser, "/dashboard/plans", "/dashboard/plans/redeem", code="NOPE")
    assert bad.status_code == 400 and "Unknown discount code." in bad.text
    code = await stubs.accounts.CreateDiscountCode(
        accounts_pb.CreateDiscountCodeRequest(plan="plus", days=7, max_uses=1)
    )
    ok = await post_form(browser, "/dashboard/plans", "/dashboard/plans/redeem", code=code.code)
    assert ok.status_code == 303
    after = await browser.get(ok.headers["location"])
    assert 'data-current-plan="plus"' in after.text and "Code redeemed" in after.text


async def test_a_form_without_the_csrf_token_is_refused(browser: httpx.AsyncClient) -> None:
    await sign_up(browser, new_email())
    for action in ("/dashboard/keys", "/dashboard/plans/redeem", "/dashboard/support"):
        response = await browser.post(action, data={"name": "x", "code": "x", "subject": "x"})
        assert response.status_code == 403, action
    keys = await browser.get("/dashboard/keys")
    assert "No keys yet." in keys.text


async def test_forms_posted_signed_out_redirect_to_log_in(browser: httpx.AsyncClient) -> None:
    response = await browser.post("/dashboard/keys", data={"name": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/login?next=")
