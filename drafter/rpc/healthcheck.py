"""``python -m drafter.rpc.healthcheck HOST:PORT [SERVICE]``: a grpc.health.v1 check for container
healthchecks. Exits 0 when the service is SERVING, 1 otherwise. The health service needs
no internal token; under mutual TLS (``DRAFTER_GRPC_TLS_*``) the check presents the
process's certificate."""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from drafter.config import CommonSettings

# How long a health probe may take: the compose health checks and the status probes of
# the edge and the accounts service.
PROBE_TIMEOUT_S = 2.0


def _channel(target: str) -> grpc.Channel:
    settings = CommonSettings()
    files = (settings.grpc_tls_cert, settings.grpc_tls_key, settings.grpc_tls_ca)
    if not all(files):
        return grpc.insecure_channel(target)
    cert, key, ca = (path.read_bytes() for path in files if path is not None)
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(ca, key, cert))


def check(target: str, service: str = "", timeout: float = PROBE_TIMEOUT_S) -> bool:
    with _channel(target) as channel:
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
