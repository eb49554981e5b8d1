"""Dashboard pages that show figures: overview, usage, plans (with discount codes) and
the API documentation rendered with this instance's base URL."""

from __future__ import annotations

import datetime as dt

import grpc
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from edge.routes.dashboard_chart import activity_chart
from edge.routes.dashboard_page import Page, done, failure, open_form, open_page
from edge.web.context import WebDep

router = APIRouter(tags=["dashboard"], include_in_schema=False)

NOTICES = {"redeemed": "Code redeemed: your plan has been upgraded."}


async def _usage(page: Page) -> dash_pb.GetAccountUsageResponse:
    request = dash_pb.GetAccountUsageRequest(user_id=page.user.user_id)
    return await page.dashboard.GetAccountUsage(request, timeout=page.timeout)


async def _plans(page: Page) -> list[dash_pb.Plan]:
    found = await page.dashboard.ListPlans(dash_pb.ListPlansRequest(), timeout=page.timeout)
    return list(found.plans)


@router.get("/dashboard")
async def overview(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    if not isinstance(page, Page):
        return page
    usage = await _usage(page)
    return page.render("overview.html", usage=usage, model=usage.plan.models[0])


@router.get("/dashboard/usage")
async def usage_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    if not isinstance(page, Page):
        return page
    usage = await _usage(page)
    today = dt.date.fromisoformat(usage.today_date)
    return page.render("usage.html", usage=usage, chart=activity_chart(usage.history, today))


async def _plans_page(page: Page, *, error: str = "", status: int = 200) -> Response:
    usage = await _usage(page)
    notice = NOTICES.get(page.request.query_params.get("done", ""), "")
    return page.render(
        "plans.html",
        status=status,
        usage=usage,
        plans=await _plans(page),
        notice=notice,
        error=error,
    )


@router.get("/dashboard/plans")
async def plans_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    if not isinstance(page, Page):
        return page
    return await _plans_page(page)


@router.post("/dashboard/plans/redeem")
async def redeem(request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = accounts_pb.RedeemDiscountCodeRequest(
        user_id=page.user.user_id, code=page.form.get("code", "")
    )
    try:
        await page.accounts.RedeemDiscountCode(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, text = failure(exc)
        return await _plans_page(page, error=text, status=400 if status == 404 else status)
    return done("/dashboard/plans", "redeemed")


@router.get("/dashboard/docs")
async def docs_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    if not isinstance(page, Page):
        return page
    return page.render("docs.html", plans=await _plans(page))
