"""Each notification trigger sends a real mail to a loopback SMTP server when the user's
preference is on, and none when it is off; no server configured means the mail is
logged; a mail server that is down never fails the request that triggered it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from tests.notifications.smtp_server import FakeSmtp
from tests.support.accounts import Account, Stubs, make_account
from tests.support.oauth import authorize, register_app, token_for
from tests.support.stack import free_port

Prefs = notifications_grpc.NotificationsServiceStub


async def set_prefs(
    stub: notifications_grpc.NotificationsServiceStub, user_id: str, **prefs: bool
) -> None:
    values = {"api_key_created": True, "app_connected": True, "quota_warning": True, **prefs}
    request = notifications_pb.SetNotificationPrefsRequest(
        user_id=user_id, prefs=notifications_pb.NotificationPrefs(**values)
    )
    await stub.SetNotificationPrefs(request)


async def _new_key(stubs: Stubs, account: Account, name: str) -> None:
    await stubs.accounts.CreateApiKey(
        accounts_pb.CreateApiKeyRequest(user_id=account.user_id, name=name)
    )


async def _pro_account(stubs: Stubs) -> Account:
    return await make_account(stubs.accounts, plan="pro")


async def test_new_api_key_mail(stubs: Stubs, smtp: FakeSmtp) -> None:
    account = await _pro_account(stubs)  # make_account's own key sends the first mail
    await _new_key(stubs, account, "laptop")
    mails = await smtp.wait_for(account.email, count=2)
    assert all(m["Subject"] == "New API key created" for m in mails)
    assert any("laptop" in m.get_content() for m in mails)  # the two tasks may race
    assert all(m["From"] == "Drafter <noreply@drafter.test>" for m in mails)


async def test_no_key_mail_when_the_preference_is_off(
    stubs: Stubs, smtp: FakeSmtp, prefs_stub: Prefs
) -> None:
    account = await _pro_account(stubs)
    await smtp.wait_for(account.email)
    await set_prefs(prefs_stub, account.user_id, api_key_created=False)
    await _new_key(stubs, account, "silent")
    await set_prefs(prefs_stub, account.user_id, api_key_created=True)
    await _new_key(stubs, account, "loud")
    mails = await smtp.wait_for(account.email, count=2)
    await asyncio.sleep(0.2)
    assert [m.get_content().count("silent") for m in smtp.messages(account.email)] == [0, 0]
    assert "loud" in mails[-1].get_content()


async def test_app_connected_mail(stubs: Stubs, smtp: FakeSmtp, prefs_stub: Prefs) -> None:
    app = await register_app(stubs)
    user = await make_account(stubs.accounts)
    await smtp.wait_for(user.email)  # the key mail
    await token_for(stubs, app, user)
    mails = await smtp.wait_for(user.email, count=2)
    assert mails[-1]["Subject"].startswith("New app connected: App ")
    await set_prefs(prefs_stub, user.user_id, app_connected=False)
    await token_for(stubs, app, user)
    await asyncio.sleep(0.3)
    assert len(smtp.messages(user.email)) == 2


async def _request(
    stubs: Stubs, user: Account, outcome: accounts_pb.Outcome = accounts_pb.OUTCOME_SUCCEEDED
) -> None:
    """One chat request: Authorize, then Settle with ``outcome``."""
    granted = await stubs.accounts.Authorize(authorize(user.key))
    await stubs.accounts.Settle(
        accounts_pb.SettleRequest(reservation_id=granted.reservation_id, outcome=outcome)
    )


async def test_quota_warning_once_a_day_at_80_percent(stubs: Stubs, smtp: FakeSmtp) -> None:
    user = await make_account(stubs.accounts)  # free plan: 20 chats a day
    await smtp.wait_for(user.email)
    for _ in range(15):
        await _request(stubs, user)
    await asyncio.sleep(0.2)
    assert len(smtp.messages(user.email)) == 1  # 15 of 20: below 80 %
    for _ in range(4):
        await _request(stubs, user)
    mails = await smtp.wait_for(user.email, count=2)
    assert mails[-1]["Subject"] == "80% of your daily chat quota used"
    assert "16 of your 20" in mails[-1].get_content()
    await asyncio.sleep(0.3)
    assert len(smtp.messages(user.email)) == 2  # once per user, kind and day


async def test_no_quota_warning_for_reserved_or_refunded_work(stubs: Stubs, smtp: FakeSmtp) -> None:
    """The 16th request of 20 reaches 80 % only once it is committed: reserved and then
    refunded (failed, cancelled), or still open, it sends nothing."""
    user = await make_account(stubs.accounts)
    await smtp.wait_for(user.email)
    for _ in range(15):
        await _request(stubs, user)
    await _request(stubs, user, accounts_pb.OUTCOME_FAILED)
    await _request(stubs, user, accounts_pb.OUTCOME_CANCELLED)
    await stubs.accounts.Authorize(authorize(user.key))  # open: the counter is at 16
    await asyncio.sleep(0.5)
    assert len(smtp.messages(user.email)) == 1  # the key mail only
    await _request(stubs, user)  # the 16th committed
    mails = await smtp.wait_for(user.email, count=2)
    assert mails[-1]["Subject"] == "80% of your daily chat quota used"
    assert "16 of your 20" in mails[-1].get_content()
    await asyncio.sleep(0.3)
    assert len(smtp.messages(user.email)) == 2


async def test_quota_warning_off(stubs: Stubs, smtp: FakeSmtp, prefs_stub: Prefs) -> None:
    user = await make_account(stubs.accounts)
    await smtp.wait_for(user.email)
    await set_prefs(prefs_stub, user.user_id, quota_warning=False)
    for _ in range(17):
        await _request(stubs, user)
    await asyncio.sleep(0.3)
    assert len(smtp.messages(user.email)) == 1


@pytest.mark.parametrize("smtp_url", [None])
async def test_without_smtp_url_the_mail_is_logged(
    stubs: Stubs, smtp: FakeSmtp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="drafter.accounts.mail")
    account = await make_account(stubs.accounts)
    for _ in range(100):
        if any(account.email in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.02)
    logged = [r.getMessage() for r in caplog.records if account.email in r.getMessage()]
    assert logged and "no DRAFTER_SMTP_URL" in logged[0] and "New API key created" in logged[0]
    assert smtp.messages() == []


@pytest.mark.parametrize("smtp_url", [f"smtp://127.0.0.1:{free_port()}"])
async def test_mail_server_down_never_fails_the_request(
    stubs: Stubs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="drafter.accounts.notifications")
    account = await make_account(stubs.accounts)  # creates a key: its mail cannot be sent
    assert account.key.startswith("dp_")
    for _ in range(200):
        if any("not sent after 3 tries" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.02)
    assert any(account.email in r.getMessage() for r in caplog.records)
