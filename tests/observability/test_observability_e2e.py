"""Metrics, traces and JSON logs of a real ``drafter up``: the edge calling its services
over gRPC (so the trace crosses processes' boundaries the way it does in split mode), the
fake Anthropic upstream, a tiny OTLP receiver, and ``/metrics`` on its own address."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.observability.otlp_receiver import OtlpReceiver
from tests.support.stack import DrafterStack, free_port, start_drafter_up

pytestmark = pytest.mark.slow

HAIKU = "claude-haiku-4-5"
PLANS = """
[plans.free]
name = "Free"
price_eur_per_week = 0
models = ["claude-haiku-4-5"]
max_api_keys = 1
max_apps = 1
[plans.free.limits]
chat = 1
imageGen = 1
imageEdit = 1

[plans.plus]
name = "Plus"
price_eur_per_week = 1
models = ["claude-haiku-4-5"]
max_api_keys = 5
max_apps = 1
[plans.plus.limits]
chat = 100
imageGen = 1
imageEdit = 1
"""


@pytest.fixture(scope="module")
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def observed(
    tmp_path_factory: pytest.TempPathFactory,
    fake_anthropic_server: FakeAnthropic,
    otlp: OtlpReceiver,
) -> Iterator[tuple[DrafterStack, str]]:
    data_dir = tmp_path_factory.mktemp("observed")
    plans = data_dir / "plans.toml"
    plans.write_text(PLANS)
    metrics_addr = f"127.0.0.1:{free_port()}"
    stack = start_drafter_up(
        data_dir,
        anthropic_base_url=fake_anthropic_server.base_url,
        DRAFTER_PLANS_FILE=str(plans),
        DRAFTER_METRICS_ADDR=metrics_addr,
        DRAFTER_LOG_FORMAT="json",
        DRAFTER_IN_PROCESS_CALLS="false",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="50",
    )
    yield stack, metrics_addr
    assert stack.stop() == 0, stack.output()


Samples = dict[str, list[tuple[dict[str, str], float]]]


def _scrape(metrics_addr: str) -> Samples:
    text = httpx.get(f"http://{metrics_addr}/metrics", timeout=5).text
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _value(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def _key(stack: DrafterStack, plan: str) -> str:
    return stack.create_user_with_key(f"obs-{uuid.uuid4().hex[:8]}@example.com", plan)


def _user(text: str) -> Any:
    return {"role": "user", "content": text}


def test_metrics_count_requests_streams_tokens_quota_and_upstream_errors(
    observed: tuple[DrafterStack, str], fake_anthropic: FakeAnthropic
) -> None:
    stack, metrics_addr = observed
    before = _scrape(metrics_addr)
    client = openai.OpenAI(api_key=_key(stack, "plus"), base_url=stack.api_url, max_retries=0)
    fake_anthropic.enqueue(text="hello there", usage={"input_tokens": 11, "output_tokens": 7})
    client.chat.completions.create(model=HAIKU, messages=[_user("hi")])
    fake_anthropic.enqueue(text="a streamed answer", chunks=3)
    assert list(client.chat.completions.create(model=HAIKU, messages=[_user("s")], stream=True))
    fake_anthropic.enqueue(Reply(status=400, error_message="bad request upstream"))
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=HAIKU, messages=[_user("x")])
    tiny = openai.OpenAI(api_key=_key(stack, "free"), base_url=stack.api_url, max_retries=0)
    tiny.chat.completions.create(model=HAIKU, messages=[_user("one")])
    with pytest.raises(openai.RateLimitError):
        tiny.chat.completions.create(model=HAIKU, messages=[_user("two")])

    after = _scrape(metrics_addr)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    route = "/api/v1/chat/completions"
    requests = "drafter_http_requests_total"
    assert grew(requests, route=route, model=HAIKU, status="200") == 3
    assert grew(requests, route=route, model=HAIKU, status="400") == 1
    assert grew(requests, route=route, status="429") == 1
    assert grew("drafter_http_request_duration_seconds_count", route=route) == 5
    assert grew("drafter_time_to_first_token_seconds_count", model=HAIKU) == 1
    assert _value(after, "drafter_streams_in_flight") == 0
    upstream = "drafter_upstream_requests_total"
    assert grew(upstream, status="200") == 3
    assert grew(upstream, status="400") == 1
    assert grew("drafter_upstream_duration_seconds_count") == 4
    assert grew("drafter_tokens_total", model=HAIKU, kind="input") >= 11
    assert grew("drafter_tokens_total", model=HAIKU, kind="output") >= 7
    decisions = "drafter_quota_decisions_total"
    assert grew(decisions, plan="plus", kind="chat", decision="admitted") == 3
    assert grew(decisions, plan="free", kind="chat", decision="admitted") == 1
    assert grew(decisions, plan="free", kind="chat", decision="rejected") == 1
    assert "drafter_settlement_queue_depth" in after
    # Raw paths never become labels: an unknown path is "other".
    httpx.get(f"{stack.base_url}/no/such/{uuid.uuid4().hex}", timeout=5)
    labels = [found for found, _ in _scrape(metrics_addr)[requests]]
    assert {found["route"] for found in labels} <= {route, "other", "/healthz", "/api/v1/status"}


def test_metrics_are_not_served_on_the_public_port(observed: tuple[DrafterStack, str]) -> None:
    stack, _ = observed
    for path in ("/metrics", "/api/v1/metrics", "/v1/metrics"):
        response = httpx.get(stack.base_url + path, timeout=5)
        assert response.status_code == 404
        assert "drafter_http_requests" not in response.text


def _trace(otlp: OtlpReceiver, trace_id: str, names: set[str]) -> list[Any]:
    deadline = time.monotonic() + 15
    while True:
        spans = [s for s in otlp.received() if s.trace_id.hex() == trace_id]
        if names <= {s.name for s in spans}:
            return spans
        assert time.monotonic() < deadline, sorted(s.name for s in spans)
        time.sleep(0.1)


def test_one_trace_from_the_edge_to_the_upstream_call(
    observed: tuple[DrafterStack, str], fake_anthropic: FakeAnthropic, otlp: OtlpReceiver
) -> None:
    stack, _ = observed
    # The caller's own trace is continued (W3C traceparent on the HTTP request).
    caller_trace, caller_span = uuid.uuid4().hex, "ab" * 8
    fake_anthropic.enqueue(text="traced")
    response = httpx.post(
        f"{stack.api_url}/chat/completions",
        json={"model": HAIKU, "messages": [_user("trace me")]},
        headers={
            "Authorization": f"Bearer {_key(stack, 'plus')}",
            "traceparent": f"00-{caller_trace}-{caller_span}-01",
        },
        timeout=30,
    )
    assert response.status_code == 200
    edge_name = "POST /api/v1/chat/completions"
    authorize = "drafter.accounts.v1.AccountsService/Authorize"
    complete = "drafter.chat.v1.ChatService/Complete"
    upstream = "upstream POST /v1/messages"
    spans = _trace(otlp, caller_trace, {edge_name, authorize, complete, upstream, "Settle"})
    by_id = {s.span_id: s for s in spans}
    by_name = {s.name: s for s in spans}

    def ancestors(span: Any) -> list[str]:
        names = []
        while span.parent_span_id in by_id:
            span = by_id[span.parent_span_id]
            names.append(span.name)
        return names

    assert by_name[edge_name].parent_span_id.hex() == caller_span
    assert ancestors(by_name[upstream])[:1] == [complete]
    for name in (upstream, complete, authorize, "Settle"):
        assert ancestors(by_name[name])[-1] == edge_name, (name, ancestors(by_name[name]))


def test_json_logs_carry_the_request_and_trace_ids(
    observed: tuple[DrafterStack, str], fake_anthropic: FakeAnthropic
) -> None:
    stack, _ = observed
    request_id = f"req-{uuid.uuid4().hex}"
    # An overloaded upstream, then an answer: the chat service logs its retry while it
    # serves the request.
    fake_anthropic.enqueue(
        Reply(status=529, headers={"retry-after": "0.05"}), Reply(text="after a retry")
    )
    response = httpx.post(
        f"{stack.api_url}/chat/completions",
        json={"model": HAIKU, "messages": [_user("retry me")]},
        headers={"Authorization": f"Bearer {_key(stack, 'plus')}", "x-request-id": request_id},
        timeout=30,
    )
    assert response.status_code == 200
    lines = [
        orjson.loads(line)
        for line in Path(stack.logs[0]).read_text().splitlines()
        if line.startswith("{")
    ]
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    retry = [line for line in lines if line.get("request_id") == request_id]
    assert retry, lines[-5:]
    assert "retrying" in retry[0]["message"]
    assert len(retry[0]["trace_id"]) == 32


def test_the_grafana_dashboard_names_only_exported_metrics() -> None:
    from drafter import metrics

    exported = {
        m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "collect")
    }
    path = Path(__file__).parents[2] / "deploy" / "grafana" / "drafter.json"
    dashboard = orjson.loads(path.read_bytes())
    text = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    used = {name for name in exported if name in text}
    assert used == exported, exported - used
