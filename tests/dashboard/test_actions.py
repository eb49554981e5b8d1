"""Dashboard actions over HTTP: keys, apps, connections, tickets, account deletion; and
that one user can never see or touch another's."""

from __future__ import annotations

import uuid

import httpx

from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.accounts.v1 import dashboard_service_pb2_grpc as dash_grpc
from drafter.config import CommonSettings
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import load_internal_auth
from tests.accounts.conftest import FakeClock
from tests.dashboard.conftest import post_form, shown_secret
from tests.oauth.web_helpers import PASSWORD, csrf_of, log_in, sign_up

CALLBACK = "https://app.example.com/callback"


def new_email() -> str:
    return f"act-{uuid.uuid4().hex[:8]}@example.com"


async def _key_id(client: httpx.AsyncClient) -> str:
    page = await client.get("/dashboard/keys")
    return page.text.split('data-key-id="')[1].split('"')[0]


async def test_keys_create_once_within_the_plan_limit_rename_and_revoke(
    browser: httpx.AsyncClient,
) -> None:
    await sign_up(browser, new_email())
    created = await post_form(browser, "/dashboard/keys", "/dashboard/keys", name="laptop")
    assert created.status_code == 201
    assert shown_secret(created).startswith("dp_")
    second = await post_form(browser, "/dashboard/keys", "/dashboard/keys", name="two")
    assert second.status_code == 400
    assert "The Free plan allows 1 API key(s)" in second.text
    key_id = await _key_id(browser)
    renamed = await post_form(
        browser, "/dashboard/keys", f"/dashboard/keys/{key_id}/rename", name="desk"
    )
    assert renamed.status_code == 303
    listed = await browser.get("/dashboard/keys")
    assert 'value="desk"' in listed.text and "data-secret" not in listed.text
    revoked = await post_form(browser, "/dashboard/keys", f"/dashboard/keys/{key_id}/revoke")
    assert revoked.status_code == 303
    assert "No keys yet." in (await browser.get("/dashboard/keys")).text


async def test_apps_create_edit_rotate_delete_and_the_three_app_limit(
    browser: httpx.AsyncClient,
) -> None:
    await sign_up(browser, new_email())
    created = await post_form(
        browser, "/dashboard/apps", "/dashboard/apps", name="Mine", redirect_uris=CALLBACK
    )
    assert created.status_code == 201 and shown_secret(created)
    client_id = created.text.split('data-client-id="')[1].split('"')[0]
    updated = await post_form(
        browser,
        "/dashboard/apps",
        f"/dashboard/apps/{client_id}/update",
        name="Renamed",
        redirect_uris=f"{CALLBACK}\nhttps://app.example.com/other",
    )
    assert updated.status_code == 303
    page = await browser.get("/dashboard/apps")
    assert "Renamed" in page.text and "https://app.example.com/other" in page.text
    bad = await post_form(
        browser, "/dashboard/apps", f"/dashboard/apps/{client_id}/update", name="X"
    )
    assert bad.status_code == 400 and "redirect URIs" in bad.text
    rotated = await post_form(browser, "/dashboard/apps", f"/dashboard/apps/{client_id}/rotate")
    assert rotated.status_code == 200 and shown_secret(rotated) != shown_secret(created)
    for n in range(2):
        more = await post_form(
            browser, "/dashboard/apps", "/dashboard/apps", name=f"A{n}", redirect_uris=CALLBACK
        )
        assert more.status_code == 201
    fourth = await post_form(
        browser, "/dashboard/apps", "/dashboard/apps", name="A4", redirect_uris=CALLBACK
    )
    assert fourth.status_code == 400 and "allows 3 app(s)" in fourth.text
    deleted = await post_form(browser, "/dashboard/apps", f"/dashboard/apps/{client_id}/delete")
    assert deleted.status_code == 303
    assert client_id not in (await browser.get("/dashboard/apps")).text


async def test_one_user_cannot_see_or_touch_anothers_keys_apps_or_tickets(
    browser: httpx.AsyncClient, edge_settings: object
) -> None:
    await sign_up(browser, new_email())
    await post_form(browser, "/dashboard/keys", "/dashboard/keys", name="alice-key")
    key_id = await _key_id(browser)
    app = await post_form(
        browser, "/dashboard/apps", "/dashboard/apps", name="AliceApp", redirect_uris=CALLBACK
    )
    client_id = app.text.split('data-client-id="')[1].split('"')[0]
    sent = await post_form(
        browser, "/dashboard/support", "/dashboard/support", subject="Alice's", message="secret"
    )
    support = await browser.get(sent.headers["location"])
    ticket_id = support.text.split('data-ticket-id="')[1].split('"')[0]
    alice_cookies = dict(browser.cookies)
    browser.cookies.clear()
    await sign_up(browser, new_email())
    for action in (f"/dashboard/keys/{key_id}/rename", f"/dashboard/keys/{key_id}/revoke"):
        response = await post_form(browser, "/dashboard/keys", action, name="mallory")
        assert response.status_code == 404, action
    for verb in ("update", "rotate", "delete"):
        response = await post_form(
            browser,
            "/dashboard/apps",
            f"/dashboard/apps/{client_id}/{verb}",
            name="x",
            redirect_uris=CALLBACK,
        )
        assert response.status_code == 404, verb
    answer = await post_form(
        browser, "/dashboard/support", f"/dashboard/support/{ticket_id}/answer", message="mine"
    )
    assert answer.status_code == 404
    revoke = await post_form(
        browser, "/dashboard/connections", f"/dashboard/connections/{client_id}/revoke"
    )
    assert revoke.status_code in (303, 404)  # only ever the caller's own tokens
    for path, hidden in (
        ("/dashboard/keys", "alice-key"),
        ("/dashboard/apps", "AliceApp"),
        ("/dashboard/support", "Alice&#39;s"),
    ):
        assert hidden not in (await browser.get(path)).text, path
    browser.cookies.clear()
    browser.cookies.update(alice_cookies)
    keys = await browser.get("/dashboard/keys")
    assert 'value="alice-key"' in keys.text
    assert "AliceApp" in (await browser.get("/dashboard/apps")).text


async def test_support_tickets_are_listed_with_replies_and_answered_by_their_user(
    browser: httpx.AsyncClient, settings: object
) -> None:
    from drafter.services.accounts.db.engine import create_engine
    from drafter.services.accounts.support import tickets

    await sign_up(browser, new_email())
    empty = await post_form(browser, "/dashboard/support", "/dashboard/support", subject="")
    assert empty.status_code == 400 and "subject" in empty.text
    sent = await post_form(
        browser, "/dashboard/support", "/dashboard/support", subject="Help", message="It broke"
    )
    assert sent.status_code == 303
    page = await browser.get(sent.headers["location"])
    assert "Help" in page.text and "It broke" in page.text and "status-open" in page.text
    ticket_id = page.text.split('data-ticket-id="')[1].split('"')[0]
    engine = create_engine(settings.database_url)  # type: ignore[attr-defined]
    try:
        await tickets.reply_ticket(
            engine=engine, ticket_id=ticket_id, message="Fixed now", now=FakeClock()(), close=True
        )
    finally:
        await engine.dispose()
    page = await browser.get("/dashboard/support")
    assert "Fixed now" in page.text and "status-closed" in page.text

    action = f"/dashboard/support/{ticket_id}/answer"
    no_csrf = await browser.post(action, data={"message": "Still broken"})
    assert no_csrf.status_code == 403
    blank = await post_form(browser, "/dashboard/support", action, message="  ")
    assert blank.status_code == 400
    answered = await post_form(browser, "/dashboard/support", action, message="Still broken")
    assert answered.status_code == 303
    page = await browser.get(answered.headers["location"])
    assert "Your answer is on the ticket." in page.text
    assert "Still broken" in page.text and "status-open" in page.text  # reopened
    replies = page.text.split('<div class="reply ')[1:]
    assert [r.split('"')[0] for r in replies] == ["support", "user"]  # in order, by author


async def test_delete_account_needs_the_password_and_holds_the_email_five_days(
    browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    email = new_email()
    await sign_up(browser, email)
    await post_form(browser, "/dashboard/keys", "/dashboard/keys", name="k")
    wrong = await post_form(
        browser, "/dashboard/settings", "/dashboard/settings/delete", password="nope-nope"
    )
    assert wrong.status_code == 403 and "password is not correct" in wrong.text
    no_csrf = await browser.post("/dashboard/settings/delete", data={"password": PASSWORD})
    assert no_csrf.status_code == 403
    assert (await browser.get("/dashboard")).status_code == 200
    deleted = await post_form(
        browser, "/dashboard/settings", "/dashboard/settings/delete", password=PASSWORD
    )
    assert deleted.status_code == 303
    assert (await browser.get("/dashboard")).status_code == 303
    assert (await log_in(browser, email)).status_code == 400
    page = await browser.get("/auth/signup")
    again = await browser.post(
        "/auth/signup", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page)}
    )
    assert again.status_code == 400
    clock.advance(days=5, seconds=1)
    await sign_up(browser, email)
    assert "No keys yet." in (await browser.get("/dashboard/keys")).text


async def test_list_plans_rpc_returns_the_plan_table(accounts_port: int) -> None:
    async with open_channel(
        f"127.0.0.1:{accounts_port}", load_internal_auth(CommonSettings())
    ) as channel:
        stub = dash_grpc.DashboardServiceStub(channel)
        found = await stub.ListPlans(dash_pb.ListPlansRequest())
    assert [p.key for p in found.plans] == ["free", "pro", "plus"]
    assert found.plans[2].price_eur_per_week == "24.99" and found.plans[0].limits.chat == 20
