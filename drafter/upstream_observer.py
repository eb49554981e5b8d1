"""Each upstream call, observed once: its duration and outcome by model
(``drafter_upstream_*``) and its client span under the call that made it.

The outcome is the upstream's HTTP status, read from the exception the service raised
(its cause, the chat service's ``UpstreamStatusError``, carries ``status_code``), or
``timeout``, ``connection`` (an exception so named: ``UpstreamTimeoutError``,
``UpstreamConnectionError``), ``cancelled`` (the caller went away) or ``error``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

from opentelemetry.trace import Status, StatusCode

from drafter import metrics, tracing

SPAN_NAME = "upstream POST /v1/messages"


def upstream_status(exc: BaseException) -> str:
    """The label of a failed upstream call (see the module's docstring)."""
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return "cancelled"
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "status_code", None)
        if isinstance(code, int):
            return str(code)
        name = type(seen).__name__
        if "Timeout" in name:
            return "timeout"
        if "Connection" in name:
            return "connection"
        seen = seen.__cause__
    return "error"


@contextlib.contextmanager
def observing_upstream(model: str) -> Iterator[None]:
    """One upstream call's block, timed and counted when it ends (however it ends)."""
    started = time.perf_counter()
    span = tracing.start(SPAN_NAME, kind=tracing.CLIENT, attributes={"gen_ai.request.model": model})
    status = "200"
    try:
        yield
    except BaseException as exc:
        status = upstream_status(exc)
        span.set_status(Status(StatusCode.ERROR, status))
        raise
    finally:
        span.set_attribute("http.response.status_code", status)
        span.end()
        metrics.record_upstream(model, status, time.perf_counter() - started)
