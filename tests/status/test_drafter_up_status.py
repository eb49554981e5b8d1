"""``drafter up`` hands the accounts service the chat and images addresses it picked, so
the prober's first round already sees them."""

from __future__ import annotations

import time

import httpx

from tests.support.stack import DrafterStack


def test_prober_sees_every_service_under_drafter_up(drafter_up: DrafterStack) -> None:
    deadline = time.monotonic() + 20
    while True:
        body = httpx.get(f"{drafter_up.api_url}/status").json()
        components = (body["history"]["24h"] or {}).get("components", {})
        if {"chat", "images"} <= set(components):
            break
        assert time.monotonic() < deadline, body["history"]
        time.sleep(0.2)
    for name in ("accounts", "chat", "images", "database"):
        assert components[name]["uptime_percent"] == 100.0, components[name]
    page = httpx.get(f"{drafter_up.base_url}/status")
    assert page.status_code == 200 and "All systems operational" in page.text
