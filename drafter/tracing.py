"""OpenTelemetry tracing: off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set; then spans go to that OTLP endpoint
(``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf``, the default, or ``grpc``), named by
``OTEL_SERVICE_NAME`` or the process's role, with every other standard ``OTEL_*``
variable read by the SDK itself.

One trace per request: the edge's span (``drafter.http_observer``, continuing a caller's
``traceparent``), the services' spans for each call (``drafter.rpc.interceptors``: the W3C
``traceparent`` travels in the gRPC metadata; an in-process call runs in its caller's
context), ``Settle`` (the edge hands the settlement over), and the chat service's span
for each upstream call (``drafter.upstream_observer``).

Off, nothing here does any work on the hot path: callers ask :func:`enabled` once, when
they wrap a handler or a route, and the SDK is never imported.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("drafter.tracing")

_ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOL_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
SERVER = trace.SpanKind.SERVER
CLIENT = trace.SpanKind.CLIENT
INTERNAL = trace.SpanKind.INTERNAL


class _State:
    tracer: trace.Tracer | None = None
    provider: TracerProvider | None = None


def enabled() -> bool:
    return _State.tracer is not None


def configure_tracing(role: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Turns tracing on when an OTLP endpoint is configured; returns whether it is on."""
    if not any(environ.get(name) for name in _ENDPOINT_ENVS) or enabled():
        return enabled()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    protocol = next((environ[n] for n in _PROTOCOL_ENVS if environ.get(n)), "http/protobuf")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[assignment]
            OTLPSpanExporter,
        )
    name = environ.get("OTEL_SERVICE_NAME") or f"drafter-{role}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    use_provider(provider)
    log.info("tracing to OTLP (%s) as %s", protocol, name)
    return True


def use_provider(provider: TracerProvider | None) -> None:
    """Traces with ``provider`` (None: off again); what ``configure_tracing`` does with
    the OTLP exporter, and what tests do with an in-memory one."""
    _State.provider = provider
    _State.tracer = None if provider is None else provider.get_tracer("drafter")


def shutdown() -> None:
    """Sends the spans still buffered (the process is stopping)."""
    if _State.provider is not None:
        _State.provider.shutdown()


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: trace.SpanKind = INTERNAL,
    parent: Context | None = None,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[trace.Span]:
    """A span, current while the block runs (a no-op span when tracing is off); an
    exception ends it with an error status (recorded by the SDK)."""
    tracer = _State.tracer
    if tracer is None:
        yield trace.INVALID_SPAN
        return
    with tracer.start_as_current_span(name, parent, kind, attributes) as current:
        yield current


def start(
    name: str, *, kind: trace.SpanKind = INTERNAL, attributes: Mapping[str, str | int]
) -> trace.Span:
    """A span under the current one that is never made current (an async generator's,
    read by more than one task); the caller ends it. A no-op span when tracing is off."""
    tracer = _State.tracer
    if tracer is None:
        return trace.INVALID_SPAN
    return tracer.start_span(name, kind=kind, attributes=attributes)


def mark(name: str, attributes: Mapping[str, str | int]) -> None:
    """A span for a moment of the request (it starts and ends at once)."""
    tracer = _State.tracer
    if tracer is not None:
        tracer.start_span(name, attributes=attributes).end()


def inject(metadata: Sequence[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """``metadata`` with the current span's W3C ``traceparent`` (and ``tracestate``)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return (*metadata, *carrier.items())


def extract(headers: Any) -> Context:
    """The caller's span context from gRPC metadata (pairs) or HTTP headers (a mapping)."""
    if not isinstance(headers, Mapping):
        headers = {str(key): value for key, value in headers or ()}
    return propagate.extract(headers)


def current_trace_id() -> str:
    """The current trace's id as 32 hex digits; "" when there is none."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
