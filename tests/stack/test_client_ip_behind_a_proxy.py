"""Behind a reverse proxy, log-in limits count the client's address, not the proxy's.

The edge's HTTP server (uvicorn) believes ``X-Forwarded-For`` only from the proxies in
``FORWARDED_ALLOW_IPS`` (127.0.0.1 by default, so a proxy on the same host works as is).
Here the test plays that proxy on 127.0.0.1 for two clients."""

from __future__ import annotations

import uuid

import httpx

from tests.oauth.web_helpers import csrf_of
from tests.support.stack import DrafterStack

FAILURES_PER_IP = 20  # DRAFTER_LOGIN_FAILURES_PER_IP's default


def _failed_login(client: httpx.Client, forwarded_for: str) -> int:
    headers = {"X-Forwarded-For": forwarded_for}
    page = client.get("/auth/login", headers=headers)
    form = {
        "email": f"nobody-{uuid.uuid4().hex[:8]}@example.com",  # never the per-account limit
        "password": "wrong password",
        "csrf_token": csrf_of(page),
        "next": "",
    }
    return client.post("/auth/login", data=form, headers=headers).status_code


def test_failed_logins_count_per_forwarded_client(drafter_up: DrafterStack) -> None:
    with httpx.Client(base_url=drafter_up.base_url) as client:
        statuses = [_failed_login(client, "203.0.113.7") for _ in range(FAILURES_PER_IP)]
        assert set(statuses) == {400}
        assert _failed_login(client, "203.0.113.7") == 429
        assert _failed_login(client, "198.51.100.4") == 400  # another client, same proxy
