"""``GET /status`` (under the API prefixes): the health of every service as JSON, 503
unless all is up, with the settlement queue of the edge process that answered
(``settlements``: its pid, the depth ``unsent`` and the ``dropped`` count; each edge
process, or worker, has its own queue) and the chat service's upstream API keys
(``upstream_keys``: label, fingerprint, load and cooling of each, never a key; null
when the chat service does not answer); and ``liveness``, the edge's own ``GET /healthz``,
mounted at the root."""

from __future__ import annotations

import asyncio
import os

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.edge.api.accounting import Accounting
from drafter.edge.deps import ServicesDep
from drafter.edge.health import collect_status, fetch_history, fetch_upstream_keys

liveness = APIRouter(tags=["health"])
router = APIRouter(tags=["health"])


@liveness.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get("/status")
async def status(request: Request, services: ServicesDep) -> Response:
    body, day, quarter, keys = await asyncio.gather(
        collect_status(services),
        fetch_history(services, "24h"),
        fetch_history(services, "90d"),
        fetch_upstream_keys(services),
    )
    body["uptime_percent"] = day["uptime_percent"] if day else None
    body["history"] = {"24h": day, "90d": quarter}
    accounting: Accounting = request.app.state.accounting
    body["upstream_keys"] = keys
    body["settlements"] = {"edge_pid": os.getpid(), **accounting.queue_status()}
    code = 200 if body["status"] == "ok" else 503
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")
