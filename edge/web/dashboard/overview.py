"""Dashboard pages that show figures: overview, usage, plans (with discount codes) and
the API documentation rendered with this instance's base URL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.edge.web.dashboard.chart import activity_chart
from drafter.edge.web.dashboard.page import FormDep, Page, PageDep, done, shows_failures

router = APIRouter(tags=["dashboard"], include_in_schema=False)

NOTICES = {"redeemed": "Code redeemed: your plan has been upgraded."}


async def _usage(page: Page) -> dash_pb.GetAccountUsageResponse:
    request = dash_pb.GetAccountUsageRequest(user_id=page.user.user_id)
    usage: dash_pb.GetAccountUsageResponse = await page.services.dashboard.GetAccountUsage(
        request, timeout=page.timeout
    )
    return usage


async def _plans(page: Page) -> list[dash_pb.Plan]:
    found = await page.services.dashboard.ListPlans(
        dash_pb.ListPlansRequest(), timeout=page.timeout
    )
    return list(found.plans)


@router.get("/dashboard")
async def overview(page: PageDep) -> Response:
    usage = await _usage(page)
    return page.render("overview.html", usage=usage, model=usage.plan.models[0])


@dataclass(frozen=True, slots=True)
class CacheTokens:
    """Today's prompt tokens read from and written to the prompt cache (both part of
    the input tokens)."""

    read: int
    written: int


def todays_cache_tokens(usage: dash_pb.GetAccountUsageResponse) -> CacheTokens:
    todays = [d for d in usage.history if d.day == usage.today_date]
    return CacheTokens(
        read=sum(d.cache_read_tokens for d in todays),
        written=sum(d.cache_creation_tokens for d in todays),
    )


@router.get("/dashboard/usage")
async def usage_page(page: PageDep) -> Response:
    usage = await _usage(page)
    today = dt.date.fromisoformat(usage.today_date)
    return page.render(
        "usage.html",
        usage=usage,
        cache=todays_cache_tokens(usage),
        chart=activity_chart(usage.history, today),
    )


async def _plans_page(page: Page, *, error: str = "", status: int = 200) -> Response:
    usage = await _usage(page)
    return page.render(
        "plans.html",
        status=status,
        usage=usage,
        plans=await _plans(page),
        notice=page.notice(NOTICES),
        error=error,
    )


@router.get("/dashboard/plans")
async def plans_page(page: PageDep) -> Response:
    return await _plans_page(page)


async def _code_refused(page: Page, *, status: int, error: str) -> Response:
    """An unknown code is the form's mistake (400), not a missing page (404)."""
    return await _plans_page(page, error=error, status=400 if status == 404 else status)


@router.post("/dashboard/plans/redeem")
@shows_failures(_code_refused)
async def redeem(page: FormDep) -> Response:
    message = accounts_pb.RedeemDiscountCodeRequest(
        user_id=page.user.user_id, code=page.form.get("code", "")
    )
    await page.services.accounts.RedeemDiscountCode(message, timeout=page.timeout)
    return done("/dashboard/plans", "redeemed")


@router.get("/dashboard/docs")
async def docs_page(page: PageDep) -> Response:
    return page.render("docs.html", plans=await _plans(page))
