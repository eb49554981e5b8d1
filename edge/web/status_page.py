"""``GET /status``: the public status page, rendered on the server (SVG history bars,
no JavaScript) from the same data as ``/api/v1/status``."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.edge.deps import ServicesDep
from drafter.edge.health import RANGES, collect_status, fetch_history
from drafter.edge.web.context import WebDep, render

router = APIRouter(tags=["status"], include_in_schema=False)

LABELS = {
    "edge": "API Server",
    "accounts": "Authentication",
    "chat": "Chat",
    "images": "Images",
    "database": "Database",
    "redis": "Redis",
    "mail": "Mail Server",
}
BAR_WIDTH = 8
BAR_GAP = 2
NO_DATA = "#d0d5dd"


def bar_fill(probes: int, successes: int) -> str:
    """Green when every probe succeeded, amber when most did, red otherwise; grey: no data."""
    if probes == 0:
        return NO_DATA
    ratio = successes / probes
    return "#12b76a" if ratio >= 1 else ("#f79009" if ratio >= 0.9 else "#f04438")


def _bars(buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bars = []
    for n, bucket in enumerate(buckets):
        probes, ok = bucket["probes"], bucket["successes"]
        share = f"{100 * ok / probes:.1f}% up" if probes else "no data"
        bars.append(
            {
                "x": n * (BAR_WIDTH + BAR_GAP),
                "fill": bar_fill(probes, ok),
                "title": f"{bucket['start']}: {share} ({probes} probes)",
            }
        )
    return bars


def history_rows(history: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row of SVG bars per component, in the order of the services list."""
    if not history:
        return []
    components = history["components"]
    order = [name for name in LABELS if name in components]
    order += sorted(set(components) - set(order))
    return [
        {
            "label": LABELS.get(name, name),
            "uptime": components[name]["uptime_percent"],
            "bars": _bars(components[name]["buckets"]),
            "width": len(components[name]["buckets"]) * (BAR_WIDTH + BAR_GAP),
        }
        for name in order
    ]


def service_rows(checks: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "label": LABELS.get(name, name),
            "up": check["status"] == "up",
            "latency_ms": check.get("latency_ms", 0.0),
            "error": check.get("error", ""),
            "background_removal": check.get("background_removal", ""),
        }
        for name, check in checks.items()
    ]


def megabytes(value: int) -> str:
    return f"{value / (1024 * 1024):.1f} MB" if value else "n/a"


@router.get("/status")
async def status_page(
    request: Request, web: WebDep, services: ServicesDep, range: str = "24h"
) -> Response:
    span = range if range in RANGES else "24h"
    body, history, day = await asyncio.gather(
        collect_status(services), fetch_history(services, span), fetch_history(services, "24h")
    )
    return render(
        web,
        request,
        "status.html",
        user=await web.user(request),
        report=body,
        services=service_rows(body["services"]),
        span=span,
        uptime=day["uptime_percent"] if day else None,
        history=history_rows(history),
        bar_width=BAR_WIDTH,
        edge_memory=megabytes(body["memory"]["edge_rss_bytes"]),
        accounts_memory=megabytes(body["memory"]["accounts_rss_bytes"]),
    )
