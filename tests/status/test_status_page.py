"""The status page and ``/api/v1/status`` against real services, and the history the
accounts service's prober records."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from tests.support.in_process_stack import Stack

SERVICES = {"edge", "accounts", "chat", "images", "database"}


async def _status(stack: Stack, prefix: str = "/api/v1") -> tuple[int, dict[str, Any]]:
    response = await stack.client.get(f"{prefix}/status")
    return response.status_code, response.json()


async def _history_until(stack: Stack, ready: Any, within_s: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        _, body = await _status(stack)
        day = body["history"]["24h"]
        if day and ready(day["components"]):
            return body
        assert time.monotonic() < deadline, f"history never became ready: {body['history']}"
        await asyncio.sleep(0.05)


async def test_json_with_every_service_up(stack: Stack) -> None:
    for prefix in ("/api/v1", "/v1"):
        code, body = await _status(stack, prefix)
        assert code == 200 and body["status"] == "ok", body
        assert set(body["services"]) >= SERVICES
        assert all(s["status"] == "up" for s in body["services"].values())
        assert body["services"]["database"]["backend"] == "sqlite"
        assert body["services"]["chat"]["health"] == "SERVING"
        assert body["health_percent"] == 100.0 and body["api_status"] == "operational"
        assert body["memory"]["edge_rss_bytes"] > 1_000_000
        assert body["memory"]["accounts_rss_bytes"] > 1_000_000
        assert body["response_time_ms"] >= 0
        assert "redis" not in body["services"] and "mail" not in body["services"]
        # The chat service's one key (ANTHROPIC_API_KEY), named without its text.
        assert [k["label"] for k in body["upstream_keys"]] == ["key-1"]
        assert "sk-ant-test" not in str(body)


async def test_html_page_with_every_service_up(stack: Stack) -> None:
    await _history_until(stack, lambda c: "chat" in c)
    page = await stack.client.get("/status")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for label in ("API Server", "Authentication", "Chat", "Images", "Database"):
        assert label in page.text
    assert "All systems operational" in page.text and "Down<" not in page.text
    assert '<dd id="health-percent">100.0%</dd>' in page.text
    assert "<svg" in page.text and page.text.count("<rect") >= 24 * 4
    assert re.search(r"Checked at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page.text)
    quarter = await stack.client.get("/status", params={"range": "90d"})
    assert quarter.status_code == 200 and quarter.text.count("<rect") >= 90 * 4


async def test_one_service_stopped_shows_down_and_degraded(stack: Stack) -> None:
    await stack.chat.stop(0)
    code, body = await _status(stack)
    assert code == 503 and body["status"] == "degraded"
    assert body["services"]["chat"]["status"] == "down"
    assert body["upstream_keys"] is None  # the chat service does not answer
    assert body["services"]["images"]["status"] == "up"
    assert body["health_percent"] < 100 and body["api_status"] == "degraded"
    page = await stack.client.get("/status")
    assert page.status_code == 200
    assert "Some systems degraded" in page.text and "Down<" in page.text


async def test_prober_records_history_and_uptime(stack: Stack) -> None:
    await _history_until(stack, lambda c: c.get("chat", {}).get("uptime_percent") == 100.0)
    await stack.chat.stop(0)
    body = await _history_until(stack, lambda c: c["chat"]["uptime_percent"] < 100.0)
    day = body["history"]["24h"]
    chat = day["components"]["chat"]
    assert 0 < chat["uptime_percent"] < 100
    assert day["components"]["images"]["uptime_percent"] == 100.0
    assert day["components"]["accounts"]["uptime_percent"] == 100.0
    assert len(chat["buckets"]) == 24 and chat["buckets"][-1]["probes"] > 1
    assert chat["buckets"][-1]["start"] == "2025-03-14T09:00:00Z"  # the injected clock's hour
    assert 0 < body["uptime_percent"] < 100
    quarter = body["history"]["90d"]["components"]["chat"]["buckets"]
    assert len(quarter) == 90 and quarter[-1]["start"] == "2025-03-14T00:00:00Z"
