"""Client channels: one long-lived grpc.aio channel per peer, opened once per process.

Balancing over replicas is the client's job: one HTTP/2 connection carries every call,
so a connection-level balancer (a Kubernetes ClusterIP Service) would pin each client to
one replica. A channel resolves its target through DNS (``dns:///host:port``; a headless
Service answers with every ready replica's address), connects to all of them and spreads
calls with ``round_robin``. It re-resolves when a connection ends, which the servers make
happen every few minutes (``drafter.rpc.server``: max connection age), so new replicas
receive calls; a stopping replica's GOAWAY moves new calls to the others at once.
"""

from __future__ import annotations

import json

from grpc import aio

from drafter.rpc.interceptors import trace_context_interceptors
from drafter.rpc.internal_auth import InternalAuth
from drafter.rpc.server import DEFAULT_MAX_MESSAGE_BYTES

# Name resolvers gRPC knows; a target without one of these schemes is a DNS name.
_SCHEMES = frozenset({"dns", "ipv4", "ipv6", "unix", "unix-abstract", "vsock"})
# Every address the target resolves to gets calls in turn.
SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})
# A ping every 30 s on an idle connection finds a dead peer (a node gone without a FIN)
# within 40 s. The servers permit pings every 20 s and more (KEEPALIVE_MIN_PING_INTERVAL_MS).
KEEPALIVE_TIME_MS = 30_000
KEEPALIVE_TIMEOUT_MS = 10_000


def grpc_target(addr: str) -> str:
    """``addr`` as a gRPC target: ``host:port`` becomes ``dns:///host:port``; a target
    that names its resolver (``dns:``, ``ipv4:``, ``unix:``...) is kept as it is."""
    scheme, sep, _ = addr.partition(":")
    if sep and scheme in _SCHEMES:
        return addr
    return f"dns:///{addr}"


def open_channel(
    target: str, auth: InternalAuth, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> aio.Channel:
    """A channel to ``target`` (``host:port`` or any gRPC target, e.g.
    ``ipv4:10.0.0.1:50052,10.0.0.2:50052``) that presents ``auth`` on every call (a client
    certificate under mutual TLS, else the internal token), balances calls over every
    address the target resolves to (``SERVICE_CONFIG``), with keepalive and message limits
    matching the servers'; reused for every call for the life of the process."""
    options = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
        ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", SERVICE_CONFIG),
        # The balancing policy is ours, never one a DNS TXT record proposes.
        ("grpc.service_config_disable_resolution", 1),
    ]
    interceptors = [*auth.client_interceptors(), *trace_context_interceptors()] or None
    credentials = auth.channel_credentials()
    address = grpc_target(target)
    if credentials is None:
        return aio.insecure_channel(address, options=options, interceptors=interceptors)
    return aio.secure_channel(address, credentials, options=options, interceptors=interceptors)
