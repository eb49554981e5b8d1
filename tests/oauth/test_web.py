"""The edge's sign-in pages and OAuth endpoints over HTTP, against a real accounts service:
sessions and CSRF, open-redirect attempts, consent, the token endpoint and its limits."""

from __future__ import annotations

import base64
import uuid

import grpc
import httpx
import pytest

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from tests.oauth.conftest import REDIRECT_URI, RegisteredApp, Stubs
from tests.oauth.web_helpers import (
    PASSWORD,
    authorize_url,
    consent,
    csrf_of,
    hidden_fields,
    log_in,
    query_of,
    sign_up,
)


def new_email() -> str:
    return f"person-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture
async def signed_in(browser: httpx.AsyncClient) -> str:
    email = new_email()
    await sign_up(browser, email)
    return email


async def code_for(browser: httpx.AsyncClient, app: RegisteredApp, **extra: str) -> str:
    response = await consent(
        browser, authorize_url(app.client_id, REDIRECT_URI, **extra), "approve"
    )
    assert response.status_code == 303
    return query_of(response.headers["location"])["code"]


def token_form(app: RegisteredApp, code: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": app.client_id,
        **extra,
    }


async def test_sign_up_sets_a_safe_session_cookie_and_log_out_ends_it(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/auth/signup")
    form = {"email": new_email(), "password": PASSWORD, "csrf_token": csrf_of(page)}
    response = await browser.post("/auth/signup", data=form)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "drafter_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await browser.get("/auth/login")
    assert form["email"] in home.text and "Log out" in home.text
    stolen = browser.cookies["drafter_session"]
    out = await browser.post("/auth/logout", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 303
    browser.cookies.set("drafter_session", stolen)  # a copy of the old cookie is dead too
    assert form["email"] not in (await browser.get("/auth/login")).text


async def test_forms_without_csrf_token_are_refused(browser: httpx.AsyncClient) -> None:
    await browser.get("/auth/signup")
    response = await browser.post("/auth/signup", data={"email": new_email(), "password": PASSWORD})
    assert response.status_code == 403 and "set-cookie" not in response.headers


async def test_tampered_session_cookie_is_ignored(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    value = browser.cookies["drafter_session"]
    browser.cookies.set(
        "drafter_session", value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    )
    assert signed_in not in (await browser.get("/auth/login")).text


async def test_login_errors_do_not_reveal_which_emails_exist(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    await browser.post(
        "/auth/logout", data={"csrf_token": csrf_of(await browser.get("/auth/login"))}
    )
    wrong_password = await log_in(browser, signed_in, "not the password")
    unknown_email = await log_in(browser, new_email(), "not the password")
    assert wrong_password.status_code == unknown_email.status_code == 400
    assert "Invalid email or password." in wrong_password.text
    assert "Invalid email or password." in unknown_email.text
    ok = await log_in(browser, signed_in)
    assert ok.status_code == 303


async def test_failed_logins_are_rate_limited_per_account(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    for _ in range(5):
        assert (await log_in(browser, signed_in, "wrong password")).status_code == 400
    blocked = await log_in(browser, signed_in)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


async def test_login_next_is_never_an_open_redirect(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = await log_in(browser, signed_in, next_path=target)
        assert response.headers["location"] == "/auth/login"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example.com/callbac",  # prefix
        "https://app.example.com/callback/evil",  # suffix
        "https://app.example.com/callback?next=https://evil.example",
        "https://app.example.com/callback#evil",
        "https://app.example.com.evil.example/callback",
        "https://APP.example.com/callback",
        "https%3A%2F%2Fapp.example.com%2Fcallback",  # encoded
        "https://app.example.com/%63allback",  # percent-encoded path
        "https://evil.example/?https://app.example.com/callback",
        "//app.example.com/callback",
        "",
    ],
)
async def test_open_redirect_attempts_get_an_error_page(
    browser: httpx.AsyncClient, app: RegisteredApp, signed_in: str, redirect_uri: str
) -> None:
    response = await browser.get(authorize_url(app.client_id, redirect_uri))
    assert response.status_code == 400 and "location" not in response.headers
    assert "Invalid authorization request" in response.text
    page = await browser.get(authorize_url(app.client_id, REDIRECT_URI))
    tampered = {**hidden_fields(page), "redirect_uri": redirect_uri, "decision": "approve"}
    response = await browser.post(
        "/oauth/authorize", data={**tampered, "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 400 and "location" not in response.headers


async def test_unknown_client_gets_an_error_page(browser: httpx.AsyncClient) -> None:
    response = await browser.get(authorize_url("dpa_unknown", REDIRECT_URI))
    assert response.status_code == 400 and "location" not in response.headers


async def test_signed_out_user_logs_in_and_comes_back_to_consent(
    browser: httpx.AsyncClient, app: RegisteredApp, stubs: Stubs
) -> None:
    email = new_email()
    await sign_up(browser, email)
    await browser.post(
        "/auth/logout", data={"csrf_token": csrf_of(await browser.get("/auth/login"))}
    )
    url = authorize_url(app.client_id, REDIRECT_URI)
    to_login = await browser.get(url)
    assert to_login.status_code == 303 and to_login.headers["location"].startswith("/auth/login?")
    next_path = query_of(to_login.headers["location"])["next"]
    back = await log_in(browser, email, next_path=next_path)
    assert back.headers["location"] == url
    page = await browser.get(url)
    assert "Approve" in page.text and "Deny" in page.text and "ai:chat" in page.text


async def test_consent_post_without_csrf_is_refused(
    browser: httpx.AsyncClient, app: RegisteredApp, signed_in: str
) -> None:
    page = await browser.get(authorize_url(app.client_id, REDIRECT_URI))
    fields = {**hidden_fields(page), "decision": "approve"}
    del fields["csrf_token"]
    response = await browser.post("/oauth/authorize", data=fields)
    assert response.status_code == 403 and "location" not in response.headers
    forged = await browser.post("/oauth/authorize", data={**fields, "csrf_token": "x" * 43})
    assert forged.status_code == 403 and "location" not in forged.headers


async def test_approve_and_deny_redirect_with_state(
    browser: httpx.AsyncClient, app: RegisteredApp, signed_in: str
) -> None:
    url = authorize_url(app.client_id, REDIRECT_URI, state="s-1")
    approved = query_of((await consent(browser, url, "approve")).headers["location"])
    assert approved["state"] == "s-1" and len(approved["code"]) >= 43
    denied = await consent(browser, url, "deny")
    assert denied.headers["location"].startswith(REDIRECT_URI + "?")
    assert query_of(denied.headers["location"]) == {"error": "access_denied", "state": "s-1"}


async def test_invalid_scope_goes_back_to_the_client(
    browser: httpx.AsyncClient, app: RegisteredApp, signed_in: str
) -> None:
    response = await browser.get(authorize_url(app.client_id, REDIRECT_URI, scope="ai:admin"))
    assert response.status_code == 303
    assert query_of(response.headers["location"])["error"] == "invalid_scope"


async def test_token_endpoint_takes_form_json_and_basic_auth(
    browser: httpx.AsyncClient, app: RegisteredApp, signed_in: str, stubs: Stubs
) -> None:
    basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    code = await code_for(browser, app)
    form = await browser.post(
        "/oauth/token", data=token_form(app, code), headers={"Authorization": f"Basic {basic}"}
    )
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    body = form.json()
    assert body["token_type"] == "Bearer" and body["access_token"].startswith("dpai_ct_")
    assert body["scope"] == "ai:chat ai:images" and body["app_name"].startswith("App ")
    code = await code_for(browser, app)
    as_json = await browser.post(
        "/oauth/token", json=token_form(app, code, client_secret=app.client_secret)
    )
    assert as_json.status_code == 200
    token = as_json.json()["access_token"]
    await stubs.accounts.Authorize(
        accounts_pb.AuthorizeRequest(
            credential=token, kind=accounts_pb.USAGE_KIND_CHAT, model="claude-haiku-4-5"
        )
    )
    revoked = await browser.post(
        "/oauth/revoke",
        data={"token": token, "client_id": app.client_id, "client_secret": app.client_secret},
    )
    assert revoked.status_code == 200
    with pytest.raises(grpc.RpcError):
        await stubs.accounts.Authorize(
            accounts_pb.AuthorizeRequest(credential=token, kind=accounts_pb.USAGE_KIND_API_CALL)
        )


async def test_token_endpoint_errors_follow_rfc6749(
    browser: httpx.AsyncClient, app: RegisteredApp, signed_in: str
) -> None:
    code = await code_for(browser, app)
    secret = {"client_secret": app.client_secret}
    wrong_grant = await browser.post(
        "/oauth/token", data=token_form(app, code, grant_type="password", **secret)
    )
    assert (
        wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"
    )
    no_code = await browser.post("/oauth/token", data=token_form(app, "", **secret))
    assert no_code.json()["error"] == "invalid_request"
    bad_client = await browser.post(
        "/oauth/token", data=token_form(app, code, client_secret="nope")
    )
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
    assert bad_client.headers["www-authenticate"].startswith("Basic")
    ok = await browser.post("/oauth/token", data=token_form(app, code, **secret))
    assert ok.status_code == 200
    replay = await browser.post("/oauth/token", data=token_form(app, code, **secret))
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert replay.headers["cache-control"] == "no-store"


async def test_token_brute_force_is_rate_limited(
    browser: httpx.AsyncClient, app: RegisteredApp, signed_in: str
) -> None:
    code = await code_for(browser, app)
    for attempt in range(10):
        guess = {"client_secret": f"dpcs_guess{attempt}"}
        assert (
            await browser.post("/oauth/token", data=token_form(app, code, **guess))
        ).status_code == 401
    right = await browser.post(
        "/oauth/token", data=token_form(app, code, client_secret=app.client_secret)
    )
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
