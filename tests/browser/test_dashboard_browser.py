"""The dashboard in a real browser: sign up, create a key and use it with the OpenAI SDK,
watch the usage counter move, register an app and consent by clicking, revoke the
connection, delete the account. Screenshots of the main pages go to test-artifacts/."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import openai
import pytest

from tests.support.stack import DrafterStack

PASSWORD = "correct horse battery"
CALLBACK = "https://app.example.com/callback"


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"dashboard-{name}.png"), full_page=True)


def _sign_up(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/auth/signup?next=/dashboard")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/dashboard")


def _create_key_and_chat(page: Any, base: str, stack: DrafterStack, artifacts: Path) -> None:
    page.goto(f"{base}/dashboard/keys")
    page.fill("input[name=name]", "browser")
    page.click("text=Create key")
    secret = page.text_content("#secret-value").strip()
    assert secret.startswith("dp_")
    _shot(page, artifacts, "keys")
    client = openai.OpenAI(base_url=stack.api_url, api_key=secret, max_retries=0)
    reply = client.chat.completions.create(
        model="claude-haiku-4-5", messages=[{"role": "user", "content": "Hello!"}]
    )
    assert reply.choices[0].message.content
    page.goto(f"{base}/dashboard/usage")
    assert page.text_content("[data-stat=chat]").strip() == "1"
    assert page.text_content("[data-stat=limitUsed]").strip() == "1"
    first = page.text_content("#reset-countdown")
    page.wait_for_timeout(1200)
    assert page.text_content("#reset-countdown") != first  # the countdown ticks
    _shot(page, artifacts, "usage")


def _app_and_consent(page: Any, base: str, stack: DrafterStack, artifacts: Path) -> str:
    page.goto(f"{base}/dashboard/apps")
    page.fill("form[action='/dashboard/apps'] input[name=name]", "Browser App")
    page.fill("form[action='/dashboard/apps'] textarea[name=redirect_uris]", CALLBACK)
    page.click("text=Create app")
    secret = page.text_content("#secret-value").strip()
    client_id = page.get_attribute("section.app", "data-client-id")
    _shot(page, artifacts, "apps")
    page.route("https://app.example.com/**", lambda route: route.fulfill(body="callback"))
    query = f"client_id={client_id}&redirect_uri={CALLBACK}&response_type=code&state=xyz"
    page.goto(f"{base}/oauth/authorize?{query}")
    page.click("button[value=approve]")
    page.wait_for_url("https://app.example.com/callback**")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    token = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "client_secret": secret,
        },
    ).json()["access_token"]
    assert token.startswith("dpai_ct_")
    return token


def _revoke_connection(page: Any, base: str, stack: DrafterStack, token: str) -> None:
    page.goto(f"{base}/dashboard/connections")
    assert "Browser App" in page.content()
    page.click("li button.danger")
    page.wait_for_url(f"{base}/dashboard/connections?done=revoked")
    assert "No connected applications." in page.content()
    client = openai.OpenAI(base_url=stack.api_url, api_key=token, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_dashboard_end_to_end_in_chromium(
    chromium: Any, drafter_up: DrafterStack, artifacts: Path
) -> None:
    base = drafter_up.base_url
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_up(page, base, email)
    assert f"Welcome, {email}" in page.content()
    assert f"curl {base}/api/v1/chat/completions" in page.content()
    _shot(page, artifacts, "overview")
    _create_key_and_chat(page, base, drafter_up, artifacts)
    token = _app_and_consent(page, base, drafter_up, artifacts)
    _revoke_connection(page, base, drafter_up, token)
    for name in ("plans", "docs", "support", "settings"):
        page.goto(f"{base}/dashboard/{name}")
        _shot(page, artifacts, name)
    page.fill("#delete-account input[name=password]", PASSWORD)
    page.click("#delete-account button.danger")
    page.wait_for_url(f"{base}/auth/signup?deleted=1")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    assert "couldn" in page.content()  # the email is held for 5 days
    context.close()


def test_dashboard_reads_well_on_a_phone(
    chromium: Any, drafter_up: DrafterStack, artifacts: Path
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _sign_up(page, drafter_up.base_url, f"phone-{uuid.uuid4().hex[:8]}@example.com")
    page.goto(f"{drafter_up.base_url}/dashboard/usage")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    _shot(page, artifacts, "usage-phone")
    context.close()
