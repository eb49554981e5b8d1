"""Email notification preferences of the signed-in user: ``GET`` and ``POST
/dashboard/settings/notifications``. The user is always the session's, never a form
field, so nobody can change another user's preferences; the form carries a CSRF token."""

from __future__ import annotations

import grpc
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from edge.routes.dashboard_page import Page, failure, open_form, open_page
from edge.web.context import WebDep

router = APIRouter(tags=["dashboard"], include_in_schema=False)

PATH = "/dashboard/settings/notifications"
FIELDS = ("api_key_created", "app_connected", "quota_warning")
LABELS = {
    "api_key_created": "A new API key is created",
    "app_connected": "A new application is connected to your account",
    "quota_warning": "80 % of a daily quota is reached",
}


def _stub(page: Page) -> notifications_grpc.NotificationsServiceStub:
    peers = page.request.app.state.services.peers
    channel = next(p.channel for p in peers if p.name == "accounts")
    return notifications_grpc.NotificationsServiceStub(channel)


async def load_notification_prefs(page: Page) -> dict[str, bool]:
    """The user's preferences, by field name (for the settings page's context)."""
    request = notifications_pb.GetNotificationPrefsRequest(user_id=page.user.user_id)
    found = await _stub(page).GetNotificationPrefs(request, timeout=page.timeout)
    return {name: getattr(found.prefs, name) for name in FIELDS}


def _render(page: Page, prefs: dict[str, bool], *, status: int = 200, **extra: str) -> Response:
    return page.render(
        "notifications.html",
        status=status,
        notification_prefs=prefs,
        notification_labels=LABELS,
        **extra,
    )


@router.get(PATH)
async def notifications_page(request: Request, web: WebDep, done: str = "") -> Response:
    page = await open_page(request, web)
    if not isinstance(page, Page):
        return page
    notice = "Notification preferences saved." if done == "saved" else ""
    return _render(page, await load_notification_prefs(page), notice=notice)


@router.post(PATH)
async def save_notifications(request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    prefs = {name: page.form.get(name, "") in ("on", "true", "1") for name in FIELDS}
    message = notifications_pb.SetNotificationPrefsRequest(
        user_id=page.user.user_id, prefs=notifications_pb.NotificationPrefs(**prefs)
    )
    try:
        await _stub(page).SetNotificationPrefs(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, error = failure(exc)
        return _render(page, prefs, status=status, error=error)
    return RedirectResponse(f"{PATH}?done=saved", status_code=303)
