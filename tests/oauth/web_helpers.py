"""Browser steps against the edge: read a form's CSRF token, sign up, log in, consent."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on the page:\n{page.text[:500]}"
    return match.group(1)


async def sign_up(browser: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    page = await browser.get("/auth/signup")
    form = {"email": email, "password": password, "csrf_token": csrf_of(page)}
    response = await browser.post("/auth/signup", data=form)
    assert response.status_code == 303, response.text


async def log_in(
    browser: httpx.AsyncClient, email: str, password: str = PASSWORD, next_path: str = ""
) -> httpx.Response:
    page = await browser.get("/auth/login", params={"next": next_path} if next_path else None)
    form = {"email": email, "password": password, "csrf_token": csrf_of(page), "next": next_path}
    return await browser.post("/auth/login", data=form)


def authorize_url(client_id: str, redirect_uri: str, state: str = "st-123", **extra: str) -> str:
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code"}
    return "/oauth/authorize?" + urlencode({**params, "state": state, **extra})


def hidden_fields(page: httpx.Response) -> dict[str, str]:
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    return {name: html.unescape(value) for name, value in pairs}


async def consent(browser: httpx.AsyncClient, url: str, decision: str) -> httpx.Response:
    """Opens the consent page of ``url`` and answers it; returns the redirect."""
    page = await browser.get(url)
    assert page.status_code == 200, page.text
    fields = hidden_fields(page)
    fields["csrf_token"] = csrf_of(page)
    return await browser.post("/oauth/authorize", data={**fields, "decision": decision})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
