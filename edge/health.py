"""The health of the stack as plain data, for ``/api/v1/status`` (``edge/api/status.py``)
and the ``/status`` page (``edge/web/status_page.py``): a live probe of every service
(grpc.health.v1) and of the accounts service's dependencies, and the probe history the
accounts service records. The images entry says how background removal is doing too
(``background_removal``: "starting" while its model loads, "up", or "unavailable"): it is
not a service of its own, so it does not count in the overall status."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

from drafter.accounts.v1 import status_service_pb2 as status_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.clients import ServiceChannel, Services
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.rpc.healthcheck import PROBE_TIMEOUT_S
from drafter.runtime import rss_bytes

HISTORY_TIMEOUT_S = 2.0
API_STATUS = {"ok": "operational", "degraded": "degraded", "down": "down"}
RANGES = {"24h": status_pb.STATUS_RANGE_24H, "90d": status_pb.STATUS_RANGE_90D}


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


# Background removal's own health in the images service (services/images/readiness.py),
# under the RPC's name: it loads its model in the background after the service is up.
REMOVE_BACKGROUND_HEALTH = (
    images_pb.DESCRIPTOR.services_by_name["ImagesService"]
    .methods_by_name["RemoveBackground"]
    .full_name
)
_REMOVAL_STATES = {
    health_pb2.HealthCheckResponse.UNKNOWN: "starting",
    health_pb2.HealthCheckResponse.SERVING: "up",
    health_pb2.HealthCheckResponse.NOT_SERVING: "unavailable",
}


async def probe_background_removal(peer: ServiceChannel) -> str | None:
    """The state of background removal: "starting" while the images service loads its
    rembg model, then "up", or "unavailable" (turned off, not installed, failed to load);
    None when unknown."""
    request = health_pb2.HealthCheckRequest(service=REMOVE_BACKGROUND_HEALTH)
    try:
        response = await peer.health.Check(request, timeout=PROBE_TIMEOUT_S)
    except grpc.RpcError:
        return None
    return _REMOVAL_STATES.get(response.status)


def _check_entry(check: status_pb.ComponentCheck) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": "up" if check.up else "down"}
    entry["backend" if check.name == "database" else "detail"] = check.detail
    if not check.up:
        entry["error"] = check.detail
    entry["latency_ms"] = round(check.latency_ms, 2)
    return entry


async def probe_dependencies(services: Services) -> tuple[dict[str, Any], int]:
    """The database, Redis and mail checks the accounts service runs now, and its RSS."""
    started = time.perf_counter()
    try:
        found = await services.status.CheckDependencies(
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
    images = next(peer for peer in peers if peer.name == "images")
    removal_probe = asyncio.ensure_future(probe_background_removal(images))
    probes = await asyncio.gather(*(probe_service(peer) for peer in peers))
    dependencies, accounts_rss = await dependency_probe
    removal = await removal_probe
    checks: dict[str, Any] = {"edge": {"status": "up", "latency_ms": 0.0}}
    for peer, result in zip(peers, probes, strict=True):
        checks[peer.name] = {"target": peer.target, **result}
    if removal is not None and checks["images"]["status"] == "up":
        checks["images"]["background_removal"] = removal
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


async def fetch_upstream_keys(services: Services) -> list[dict[str, Any]] | None:
    """The chat service's upstream API keys (label, fingerprint, load, cooling, counts:
    never a key); None when the chat service does not answer."""
    try:
        found = await services.chat.GetUpstreamKeys(
            chat_pb.GetUpstreamKeysRequest(), timeout=PROBE_TIMEOUT_S
        )
    except grpc.RpcError:
        return None
    return [
        {
            "label": key.label,
            "fingerprint": key.fingerprint,
            "in_flight": key.in_flight,
            "cooling": key.cooling,
            "cooling_until": (
                key.cooling_until.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                if key.cooling
                else None
            ),
            "requests": key.requests,
            "rate_limited": key.rate_limited,
            "overloaded": key.overloaded,
            "last_status": key.last_status or None,
        }
        for key in found.keys
    ]


def _bucket(bucket: status_pb.StatusBucket) -> dict[str, Any]:
    return {
        "start": bucket.start.ToDatetime().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "probes": bucket.probes,
        "successes": bucket.successes,
        "mean_latency_ms": round(bucket.mean_latency_ms, 2),
    }


async def fetch_history(services: Services, span: str) -> dict[str, Any] | None:
    """``span`` ("24h" or "90d") of probe history as plain data; None when unavailable."""
    request = status_pb.GetStatusHistoryRequest(range=RANGES[span])
    try:
        found = await services.status.GetStatusHistory(request, timeout=HISTORY_TIMEOUT_S)
    except grpc.RpcError:
        return None
    return {
        "uptime_percent": round(found.uptime_percent, 2),
        "probe_interval_s": found.probe_interval_s,
        "components": {
            c.name: {
                "uptime_percent": round(c.uptime_percent, 2),
                "buckets": [_bucket(b) for b in c.buckets],
            }
            for c in found.components
        },
    }
