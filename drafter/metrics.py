"""Every Prometheus metric Drafter exports, in one place: names, labels, buckets; and the
small server that exposes them at ``/metrics`` on ``DRAFTER_METRICS_ADDR``.

Labels stay bounded: routes are route templates (``/v1/chat/completions``, never a raw
path), models are the model table's ids (what Authorize resolved, or what the chat
service sent upstream), plans are the plan table's keys, statuses are HTTP status codes
(or ``timeout``/``connection`` for an upstream that never answered). Work is counted once
per request or upstream call, never per streamed event.

Each process has its own registry (the default one) and its own address: ``drafter
serve NAME`` serves its metrics on ``DRAFTER_METRICS_ADDR``; ``drafter up`` serves the
services and its own edge there, and its extra edge workers (``--edge-workers N``) on the
next ports (port + 1 ... port + N - 1), one scrape target each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from drafter.common.v1 import usage_pb2 as usage_pb

log = logging.getLogger("drafter.metrics")

METRICS_ADDR_ENV = "DRAFTER_METRICS_ADDR"

# Seconds: an API request lasts from a few milliseconds (a refusal) to minutes (a stream).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60)

HTTP_REQUESTS = Counter(
    "drafter_http_requests",
    "HTTP requests answered by the edge, by route template, model and status.",
    ("route", "model", "status"),
)
HTTP_LATENCY = Histogram(
    "drafter_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer (a stream's last byte).",
    ("route",),
    buckets=_LATENCY_BUCKETS,
)
FIRST_TOKEN = Histogram(
    "drafter_time_to_first_token_seconds",
    "Streams: time from admission (Authorize) to the first generated content sent.",
    ("model",),
    buckets=_FIRST_TOKEN_BUCKETS,
)
STREAMS_IN_FLIGHT = Gauge(
    "drafter_streams_in_flight",
    "Server-sent event streams being written by the edge.",
)
UPSTREAM_REQUESTS = Counter(
    "drafter_upstream_requests",
    "Calls to the upstream Messages API (after the SDK's retries), by model and status.",
    ("model", "status"),
)
UPSTREAM_LATENCY = Histogram(
    "drafter_upstream_duration_seconds",
    "Upstream calls, from the request to the end of the answer (a stream's last event).",
    ("model",),
    buckets=_LATENCY_BUCKETS,
)
TOKENS = Counter(
    "drafter_tokens",
    "Tokens settled, by model and kind: input (uncached), output, cache_read, cache_write.",
    ("model", "kind"),
)
QUOTA_DECISIONS = Counter(
    "drafter_quota_decisions",
    "Quota reservations by plan, usage kind and decision (admitted or rejected).",
    ("plan", "kind", "decision"),
)
SETTLEMENT_QUEUE = Gauge(
    "drafter_settlement_queue_depth",
    "Settlements waiting for the accounts service in this edge process.",
)


def record_http(route: str, model: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, model, str(status)).inc()
    HTTP_LATENCY.labels(route).observe(seconds)


def record_upstream(model: str, status: str, seconds: float) -> None:
    UPSTREAM_REQUESTS.labels(model, status).inc()
    UPSTREAM_LATENCY.labels(model).observe(seconds)


def record_settled(model: str, usage: usage_pb.TokenUsage | None, first_token_s: float) -> None:
    """A request's tokens and (streams) its time to first token, once, when it settles."""
    if first_token_s > 0:
        FIRST_TOKEN.labels(model).observe(first_token_s)
    if usage is None:
        return
    for kind, count in (
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("cache_read", usage.cache_read_input_tokens),
        ("cache_write", usage.cache_creation_input_tokens),
    ):
        if count:
            TOKENS.labels(model, kind).inc(count)


def record_quota(plan: str, kind: str, admitted: bool) -> None:
    QUOTA_DECISIONS.labels(plan, kind, "admitted" if admitted else "rejected").inc()


def watch_settlement_queue(depth: Callable[[], int]) -> None:
    """The settlement queue gauge reads ``depth`` at each scrape (the process's edge)."""
    SETTLEMENT_QUEUE.set_function(depth)


@dataclass
class MetricsServer:
    """A started ``/metrics`` server (its own thread); ``close`` stops it."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def split_addr(addr: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9100`` for IPv6) as host and port; ValueError otherwise."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{METRICS_ADDR_ENV} must be host:port, not {addr!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def offset_addr(addr: str, offset: int) -> str:
    """``addr`` with its port moved by ``offset`` (the extra edge workers' addresses)."""
    host, port = split_addr(addr)
    return f"[{host}]:{port + offset}" if ":" in host else f"{host}:{port + offset}"


def serve_metrics(addr: str | None) -> MetricsServer | None:
    """Serves ``/metrics`` (any path, as prometheus_client does) on ``addr``; nothing when
    it is unset or empty: then no port is opened at all."""
    if not addr:
        return None
    host, port = split_addr(addr)
    server, thread = start_http_server(port, host)
    log.info("metrics at http://%s:%d/metrics", host, server.server_port)
    return MetricsServer(server, thread)
