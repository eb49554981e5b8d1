"""Support tickets in the dashboard (``/dashboard/support``): open a ticket, answer on
one, and read the replies."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.edge.web.dashboard.page import FormDep, Page, PageDep, done, shows_failures

router = APIRouter(tags=["dashboard"], include_in_schema=False)

SUPPORT = "/dashboard/support"
NOTICES = {
    "sent": "Thanks! Your ticket is open; replies show up here.",
    "answered": "Your answer is on the ticket.",
}


async def _support_page(
    page: Page, *, status: int = 200, error: str = "", subject: str = "", message: str = ""
) -> Response:
    found = await page.services.dashboard.ListTickets(
        dash_pb.ListTicketsRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "support.html",
        status=status,
        tickets=found.tickets,
        error=error,
        subject=subject,
        message=message,
        notice=page.notice(NOTICES),
    )


async def _ticket_refused(page: Page, *, status: int, error: str) -> Response:
    """The new-ticket form again, with what the user wrote."""
    subject, message = page.form.get("subject", ""), page.form.get("message", "")
    return await _support_page(page, status=status, error=error, subject=subject, message=message)


@router.get(SUPPORT)
async def support_page(page: PageDep) -> Response:
    return await _support_page(page)


@router.post(SUPPORT)
@shows_failures(_ticket_refused)
async def create_ticket(page: FormDep) -> Response:
    subject, text = page.form.get("subject", ""), page.form.get("message", "")
    message = dash_pb.CreateTicketRequest(user_id=page.user.user_id, subject=subject, message=text)
    await page.services.dashboard.CreateTicket(message, timeout=page.timeout)
    return done(SUPPORT, "sent")


@router.post(SUPPORT + "/{ticket_id}/answer")
@shows_failures(_support_page)
async def answer_ticket(ticket_id: str, page: FormDep) -> Response:
    message = dash_pb.AnswerTicketRequest(
        user_id=page.user.user_id, ticket_id=ticket_id, message=page.form.get("message", "")
    )
    await page.services.dashboard.AnswerTicket(message, timeout=page.timeout)
    return done(SUPPORT, "answered")
