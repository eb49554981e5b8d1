"""Liveness of the edge (``/healthz``) and the health of every service (``/status`` JSON)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import orjson
from fastapi import APIRouter
from grpc_health.v1 import health_pb2
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from edge.clients import ServiceChannel, Services
from edge.deps import ServicesDep

PROBE_TIMEOUT_S = 2.0

liveness = APIRouter(tags=["health"])
router = APIRouter(tags=["health"])


@liveness.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def probe_service(peer: ServiceChannel) -> dict[str, Any]:
    """One grpc.health.v1 Check against a service, with its latency."""
    started = time.perf_counter()
    try:
        response = await peer.health.Check(
            health_pb2.HealthCheckRequest(service=""), timeout=PROBE_TIMEOUT_S
        )
    except grpc.RpcError as exc:
        return {"status": "down", "latency_ms": _ms(started), "error": exc.code().name}
    serving = response.status == health_pb2.HealthCheckResponse.SERVING
    return {
        "status": "up" if serving else "down",
        "health": health_pb2.HealthCheckResponse.ServingStatus.Name(response.status),
        "latency_ms": _ms(started),
    }


async def probe_database(services: Services) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        response = await services.accounts.CheckDatabase(
            accounts_pb.CheckDatabaseRequest(), timeout=PROBE_TIMEOUT_S
        )
    except grpc.RpcError as exc:
        return {"status": "down", "latency_ms": _ms(started), "error": exc.code().name}
    latency = round(response.latency_ms, 2)
    return {"status": "up", "backend": response.backend, "latency_ms": latency}


async def collect_status(services: Services) -> dict[str, Any]:
    """Probes every service and the database at once."""
    probes = await asyncio.gather(
        *(probe_service(peer) for peer in services.peers), probe_database(services)
    )
    checks: dict[str, Any] = {"edge": {"status": "up", "latency_ms": 0.0}}
    for peer, result in zip(services.peers, probes, strict=False):
        checks[peer.name] = {"target": peer.target, **result}
    checks["database"] = probes[-1]
    up = sum(1 for c in checks.values() if c["status"] == "up")
    overall = "ok" if up == len(checks) else ("down" if up <= 1 else "degraded")
    return {
        "status": overall,
        "health_percent": round(100 * up / len(checks), 1),
        "services": checks,
        "checked_at": int(time.time()),
    }


@router.get("/status")
async def status(services: ServicesDep) -> Response:
    body = await collect_status(services)
    code = 200 if body["status"] == "ok" else 503
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")
