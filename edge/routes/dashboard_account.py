"""Support tickets and account settings: sign out, delete the account (password
confirmed; the accounts service enforces the 5-day email cooldown)."""

from __future__ import annotations

import grpc
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from edge.routes.dashboard_page import Page, done, failure, open_form, open_page
from edge.routes.notifications import LABELS as NOTIFICATION_LABELS
from edge.routes.notifications import load_notification_prefs
from edge.sessions import clear_session_cookie
from edge.web.context import WebDep

router = APIRouter(tags=["dashboard"], include_in_schema=False)

SUPPORT = "/dashboard/support"
SETTINGS = "/dashboard/settings"
NOTICES = {
    "sent": "Thanks! Your ticket is open; replies show up here.",
    "answered": "Your answer is on the ticket.",
}
DELETED_PATH = "/auth/signup?deleted=1"


async def _support_page(
    page: Page, *, status: int = 200, error: str = "", subject: str = "", message: str = ""
) -> Response:
    found = await page.dashboard.ListTickets(
        dash_pb.ListTicketsRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "support.html",
        status=status,
        tickets=found.tickets,
        error=error,
        subject=subject,
        message=message,
        notice=NOTICES.get(page.request.query_params.get("done", ""), ""),
    )


@router.get(SUPPORT)
async def support_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    return page if not isinstance(page, Page) else await _support_page(page)


@router.post(SUPPORT)
async def create_ticket(request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    subject, text = page.form.get("subject", ""), page.form.get("message", "")
    message = dash_pb.CreateTicketRequest(user_id=page.user.user_id, subject=subject, message=text)
    try:
        await page.dashboard.CreateTicket(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, error = failure(exc)
        return await _support_page(page, status=status, error=error, subject=subject, message=text)
    return done(SUPPORT, "sent")


@router.post(SUPPORT + "/{ticket_id}/answer")
async def answer_ticket(ticket_id: str, request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = dash_pb.AnswerTicketRequest(
        user_id=page.user.user_id, ticket_id=ticket_id, message=page.form.get("message", "")
    )
    try:
        await page.dashboard.AnswerTicket(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, error = failure(exc)
        return await _support_page(page, status=status, error=error)
    return done(SUPPORT, "answered")


async def _settings(page: Page, *, status: int = 200, error: str = "") -> Response:
    """The settings page, with the notification preferences form filled in."""
    prefs = await load_notification_prefs(page)
    usage = await page.dashboard.GetAccountUsage(
        dash_pb.GetAccountUsageRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "settings.html",
        status=status,
        error=error,
        plan=usage.plan,
        notification_prefs=prefs,
        notification_labels=NOTIFICATION_LABELS,
    )


@router.get(SETTINGS)
async def settings_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    return page if not isinstance(page, Page) else await _settings(page)


@router.post(SETTINGS + "/delete")
async def delete_account(request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = dash_pb.DeleteAccountRequest(
        user_id=page.user.user_id, password=page.form.get("password", "")
    )
    try:
        await page.dashboard.DeleteAccount(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, error = failure(exc)
        return await _settings(page, status=status, error=error)
    response = RedirectResponse(DELETED_PATH, status_code=303)
    clear_session_cookie(response)
    return response
