"""The preferences form on the dashboard: saved for the signed-in user only, behind a
CSRF token."""

from __future__ import annotations

import re
import uuid

import httpx

from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from drafter.services.accounts.notifications.prefs import Prefs
from tests.oauth.web_helpers import PASSWORD, csrf_of, sign_up
from tests.support.accounts import Stubs

PATH = "/dashboard/settings/notifications"
ALL = {"api_key_created", "app_connected", "quota_warning"}


def _checked(page: httpx.Response) -> set[str]:
    return set(re.findall(r'name="(\w+)" value="on" checked', page.text))


async def _prefs(stub: notifications_grpc.NotificationsServiceStub, user_id: str) -> Prefs:
    request = notifications_pb.GetNotificationPrefsRequest(user_id=user_id)
    p = (await stub.GetNotificationPrefs(request)).prefs
    return Prefs(p.api_key_created, p.app_connected, p.quota_warning)


async def _signed_up(browser: httpx.AsyncClient, stubs: Stubs) -> str:
    """Signs a new user up in ``browser``; returns their user id."""
    email = f"prefs-{uuid.uuid4().hex[:8]}@example.com"
    await sign_up(browser, email)
    found = await stubs.identity.LogIn(identity_pb.LogInRequest(email=email, password=PASSWORD))
    return str(found.session.user_id)


async def test_form_shows_and_saves_the_preferences(
    browser: httpx.AsyncClient, stubs: Stubs
) -> None:
    await _signed_up(browser, stubs)
    page = await browser.get(PATH)
    assert page.status_code == 200 and _checked(page) == ALL
    form = {"csrf_token": csrf_of(page), "app_connected": "on"}
    saved = await browser.post(PATH, data=form)
    assert saved.status_code == 303 and saved.headers["location"] == f"{PATH}?done=saved"
    again = await browser.get(saved.headers["location"])
    assert _checked(again) == {"app_connected"} and "saved" in again.text


async def test_settings_page_includes_the_section(browser: httpx.AsyncClient, stubs: Stubs) -> None:
    await _signed_up(browser, stubs)
    page = await browser.get("/dashboard/settings")
    assert page.status_code == 200
    assert "Email Notifications" in page.text and PATH in page.text
    assert _checked(page) == ALL  # the form itself, filled in, not just a link


async def test_signed_out_is_sent_to_log_in(browser: httpx.AsyncClient) -> None:
    page = await browser.get(PATH)
    assert page.status_code == 303 and page.headers["location"].startswith("/auth/login")
    posted = await browser.post(PATH, data={"app_connected": "on"})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/auth/login")


async def test_csrf_failure_changes_nothing(
    browser: httpx.AsyncClient,
    stubs: Stubs,
    prefs_stub: notifications_grpc.NotificationsServiceStub,
) -> None:
    user_id = await _signed_up(browser, stubs)
    page = await browser.get(PATH)
    for token in ("", "forged-token", csrf_of(page) + "x"):
        response = await browser.post(PATH, data={"csrf_token": token})
        assert response.status_code == 403
    assert await _prefs(prefs_stub, user_id) == Prefs()


async def test_one_user_cannot_change_another_users_prefs(
    browser: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    stubs: Stubs,
    prefs_stub: notifications_grpc.NotificationsServiceStub,
) -> None:
    victim = await _signed_up(browser, stubs)
    attacker = await _signed_up(other_browser, stubs)
    victim_token = csrf_of(await browser.get(PATH))
    # The victim's CSRF token is bound to the victim's session: useless in another one.
    stolen = await other_browser.post(PATH, data={"csrf_token": victim_token})
    assert stolen.status_code == 403
    # A user_id field is ignored: the session decides whose preferences change.
    token = csrf_of(await other_browser.get(PATH))
    own = await other_browser.post(PATH, data={"csrf_token": token, "user_id": victim})
    assert own.status_code == 303
    assert await _prefs(prefs_stub, victim) == Prefs()
    assert await _prefs(prefs_stub, attacker) == Prefs(False, False, False)
