"""``python -m drafter.rpc.healthcheck HOST:PORT [SERVICE]``: a grpc.health.v1 check for container
healthchecks. Exits 0 when the service is SERVING, 1 otherwise."""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

# How long a health probe may take: the compose health checks and the status probes of
# the edge and the accounts service.
PROBE_TIMEOUT_S = 2.0


def check(target: str, service: str = "", timeout: float = PROBE_TIMEOUT_S) -> bool:
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m drafter.rpc.healthcheck HOST:PORT [SERVICE]", file=sys.stderr)
        return 2
    return 0 if check(argv[0], argv[1] if len(argv) > 1 else "") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
