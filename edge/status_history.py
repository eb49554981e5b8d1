"""The probe history the accounts service records, fetched for the status page and JSON."""

from __future__ import annotations

from typing import Any

import grpc

from drafter.accounts.v1 import status_service_pb2 as status_pb
from drafter.accounts.v1 import status_service_pb2_grpc as status_grpc
from edge.clients import Services

HISTORY_TIMEOUT_S = 2.0
RANGES = {"24h": status_pb.STATUS_RANGE_24H, "90d": status_pb.STATUS_RANGE_90D}


def status_stub(services: Services) -> status_grpc.StatusServiceStub:
    accounts = next(peer for peer in services.peers if peer.name == "accounts")
    return status_grpc.StatusServiceStub(accounts.channel)


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
        found = await status_stub(services).GetStatusHistory(request, timeout=HISTORY_TIMEOUT_S)
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
