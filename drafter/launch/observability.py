"""What every Drafter process starts beside its servers: tracing when an OTLP endpoint is
configured (``drafter.tracing``) and the ``/metrics`` server on ``DRAFTER_METRICS_ADDR``
(``drafter.metrics``); both stopped with the process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from drafter import metrics, tracing


def start_observing(role: str, metrics_addr: str | None = None) -> Callable[[], None]:
    """Starts tracing and metrics (``metrics_addr`` defaults to the environment's);
    returns what stops them."""
    tracing.configure_tracing(role)
    addr = metrics_addr if metrics_addr is not None else os.environ.get(metrics.METRICS_ADDR_ENV)
    server = metrics.serve_metrics(addr)

    def stop() -> None:
        if server is not None:
            server.close()
        tracing.shutdown()

    return stop


@contextlib.contextmanager
def observed_process(role: str) -> Iterator[None]:
    """Tracing and metrics while the block runs (``start_observing``)."""
    stop = start_observing(role)
    try:
        yield
    finally:
        stop()


def worker_metrics_env(index: int) -> dict[str, str]:
    """The ``DRAFTER_METRICS_ADDR`` of ``drafter up``'s extra edge worker ``index`` (1, 2,
    ...): the stack's port plus ``index``; nothing when metrics are off."""
    addr = os.environ.get(metrics.METRICS_ADDR_ENV)
    return {metrics.METRICS_ADDR_ENV: metrics.offset_addr(addr, index)} if addr else {}
