"""How every process logs: text by default, or with ``DRAFTER_LOG_FORMAT=json`` one JSON
object per line (``time``, ``level``, ``logger``, ``message``, and ``request_id`` and
``trace_id`` when the line was logged while serving a request; ``exception`` with the
traceback when there is one), for log collectors that parse lines."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import orjson

from drafter import request_scope, tracing

LOG_FORMAT_ENV = "DRAFTER_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _State:
    json = False


def json_enabled() -> bool:
    """Whether log lines are JSON (then they carry the request id: servers record it)."""
    return _State.json


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        scope = request_scope.current()
        if scope is not None and scope.request_id:
            line["request_id"] = scope.request_id
        trace_id = tracing.current_trace_id()
        if trace_id:
            line["trace_id"] = trace_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str, fmt: str = "text") -> None:
    """The root logger at ``level``, writing ``fmt`` (``json``, else text) to stderr; a
    no-op for a root logger that already has handlers (a host that set up logging itself,
    such as a test runner whose captured streams close later), as ``basicConfig`` is."""
    _State.json = fmt == "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    if fmt not in ("text", "json"):
        logging.getLogger("drafter").warning("%s=%r is not text or json: text", LOG_FORMAT_ENV, fmt)
