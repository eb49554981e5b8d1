"""The dashboard over HTTP: the edge in process against a real accounts service (the
fixtures of tests/oauth), with helpers to sign people up and post dashboard forms."""

from __future__ import annotations

import re

import httpx

from tests.oauth.conftest import (  # noqa: F401 (fixtures)
    accounts_port,
    browser,
    clock,
    database_url,
    edge_settings,
    oauth_postgres_database,
    settings,
    stubs,
)
from tests.oauth.web_helpers import csrf_of

SECRET = re.compile(r"data-secret>([^<]+)<")


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, **fields: str
) -> httpx.Response:
    """Opens ``page_path`` (for its CSRF token) and posts ``fields`` to ``action``."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_of(page), **fields})


def shown_secret(page: httpx.Response) -> str:
    match = SECRET.search(page.text)
    assert match, page.text[:2000]
    return match.group(1)
