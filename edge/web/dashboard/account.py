"""The account's settings (``/dashboard/settings/...``): the settings page, email
notification preferences, and deleting the account (password confirmed; the accounts
service enforces the 5-day email cooldown). The user is always the session's, never a
form field, so nobody can change another user's preferences; every form carries a CSRF
token."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.edge.web.dashboard.page import FormDep, Page, PageDep, done, shows_failures
from drafter.edge.web.sessions import clear_session_cookie

router = APIRouter(tags=["dashboard"], include_in_schema=False)

SETTINGS = "/dashboard/settings"
NOTIFICATIONS = SETTINGS + "/notifications"
DELETED_PATH = "/auth/signup?deleted=1"
NOTIFICATION_FIELDS = ("api_key_created", "app_connected", "quota_warning")
NOTIFICATION_LABELS = {
    "api_key_created": "A new API key is created",
    "app_connected": "A new application is connected to your account",
    "quota_warning": "80 % of a daily quota is reached",
}
NOTICES = {"saved": "Notification preferences saved."}


async def notification_prefs(page: Page) -> dict[str, bool]:
    """The user's preferences, by field name (for the context of both pages)."""
    request = notifications_pb.GetNotificationPrefsRequest(user_id=page.user.user_id)
    found = await page.services.notifications.GetNotificationPrefs(request, timeout=page.timeout)
    return {name: getattr(found.prefs, name) for name in NOTIFICATION_FIELDS}


async def _settings(page: Page, *, status: int = 200, error: str = "") -> Response:
    """The settings page, with the notification preferences form filled in."""
    prefs = await notification_prefs(page)
    usage = await page.services.dashboard.GetAccountUsage(
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
async def settings_page(page: PageDep) -> Response:
    return await _settings(page)


@router.post(SETTINGS + "/delete")
@shows_failures(_settings)
async def delete_account(page: FormDep) -> Response:
    message = dash_pb.DeleteAccountRequest(
        user_id=page.user.user_id, password=page.form.get("password", "")
    )
    await page.services.dashboard.DeleteAccount(message, timeout=page.timeout)
    response = RedirectResponse(DELETED_PATH, status_code=303)
    clear_session_cookie(response)
    return response


def _notifications_page(
    page: Page, prefs: dict[str, bool], *, status: int = 200, **extra: str
) -> Response:
    return page.render(
        "notifications.html",
        status=status,
        notification_prefs=prefs,
        notification_labels=NOTIFICATION_LABELS,
        **extra,
    )


def _posted_prefs(page: Page) -> dict[str, bool]:
    return {name: page.form.get(name, "") in ("on", "true", "1") for name in NOTIFICATION_FIELDS}


async def _prefs_refused(page: Page, *, status: int, error: str) -> Response:
    return _notifications_page(page, _posted_prefs(page), status=status, error=error)


@router.get(NOTIFICATIONS)
async def notifications_page(page: PageDep) -> Response:
    prefs = await notification_prefs(page)
    return _notifications_page(page, prefs, notice=page.notice(NOTICES))


@router.post(NOTIFICATIONS)
@shows_failures(_prefs_refused)
async def save_notifications(page: FormDep) -> Response:
    message = notifications_pb.SetNotificationPrefsRequest(
        user_id=page.user.user_id,
        prefs=notifications_pb.NotificationPrefs(**_posted_prefs(page)),
    )
    await page.services.notifications.SetNotificationPrefs(message, timeout=page.timeout)
    return done(NOTIFICATIONS, "saved")
