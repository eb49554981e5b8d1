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

from drafter.accounts.v1 import status_service_pb2 as status_pb
from drafter.memory import rss_bytes
from edge.clients import ServiceChannel, Services
from edge.deps import ServicesDep
from edge.status_history import fetch_history, status_stub

PROBE_TIMEOUT_S = 2.0
API_STATUS = {"ok": "operational", "degraded": "degraded", "down": "down"}

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


def _check_entry(check: status_pb.ComponentCheck) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": "up" if check.up else "down"}
    entry["backend" if check.name == "database" else "detail"] = check.detail
    if not check.up:
        entry["error"] = check.detail
    entry["latency_ms"] = round(check.latency_ms, 2)
    return entry


async def probe_dependencies(services: Services) -> tuple[dict[str, Any], int]:
    """The database, Redis and mail checks the accounts service runs now, and its RSS."""
    stub = status_stub(services)
    started = time.perf_counter()
    try:
        found = await stub.CheckDependencies(
            status_pb.CheckDependenciesRequest(), timeout=PROBE_TIMEOUT_S
        )
    except grpc.RpcError as exc:
        down = {"status": "down", "latency_ms": _ms(started), "error": exc.code().name}
        return {"database": down}, 0
    return {c.name: _check_entry(c) for c in found.checks}, found.rss_bytes


def _overall(checks: dict[str, Any]) -> tuple[str, float]:
    up = sum(1 for c in checks.values() if c["status"] == "up")
    overall = "ok" if up == len(checks) else ("down" if up <= 1 else "degraded")
    return overall, round(100 * up / len(checks), 1)


async def collect_status(services: Services) -> dict[str, Any]:
    """Probes every service and the accounts service's dependencies at once."""
    started = time.perf_counter()
    peers = services.peers
    dependency_probe = asyncio.ensure_future(probe_dependencies(services))
    probes = await asyncio.gather(*(probe_service(peer) for peer in peers))
    dependencies, accounts_rss = await dependency_probe
    checks: dict[str, Any] = {"edge": {"status": "up", "latency_ms": 0.0}}
    for peer, result in zip(peers, probes, strict=True):
        checks[peer.name] = {"target": peer.target, **result}
    checks.update(dependencies)
    overall, percent = _overall(checks)
    return {
        "status": overall,
        "health_percent": percent,
        "api_status": API_STATUS[overall],
        "response_time_ms": _ms(started),
        "memory": {"edge_rss_bytes": rss_bytes(), "accounts_rss_bytes": accounts_rss},
        "services": checks,
        "checked_at": int(time.time()),
    }


@router.get("/status")
async def status(services: ServicesDep) -> Response:
    body, day, quarter = await asyncio.gather(
        collect_status(services), fetch_history(services, "24h"), fetch_history(services, "90d")
    )
    body["uptime_percent"] = day["uptime_percent"] if day else None
    body["history"] = {"24h": day, "90d": quarter}
    code = 200 if body["status"] == "ok" else 503
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")
