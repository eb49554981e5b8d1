"""The Messages API (``/v1/messages``, passed through to Anthropic) and the Responses API
(``/v1/responses``, translated) beside chat completions, on the same gateways and in the
same phase, at concurrency 32, JSON and streaming.

What matters is each path's CPU per request against chat completions on the same
gateway: Drafter's targets are at most 1.0 times chat completions' for Messages and 1.2
times for Responses. Portkey and LiteLLM are measured on whichever of these paths they serve
(one probe request each decides; the reason is printed when they do not).
"""

from __future__ import annotations

from bench.gateways import Gateway
from bench.instant import (
    NAMES,
    Lineup,
    Measured,
    markdown_table,
    measure,
    ms,
    probe,
    ratio,
    tick_note,
    warm_up,
)
from bench.loadgen import percentile
from bench.targets import APIS, api_target

CONCURRENCY = 32
# Drafter's CPU per request on each path, at most this many times chat completions'.
TARGETS = {"messages": 1.0, "responses": 1.2}
PATHS = {"chat": "/v1/chat/completions", "messages": "/v1/messages", "responses": "/v1/responses"}

HEADER = [
    "scenario",
    "gateway",
    "API",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU ms/req",
    "CPU vs chat completions",
    "errors",
]


async def served_apis(gateways: list[Gateway]) -> tuple[dict[str, list[str]], list[str]]:
    """The APIs each gateway answers with content, JSON and streaming; and why not."""
    served: dict[str, list[str]] = {}
    reasons: list[str] = []
    for gateway in gateways:
        served[gateway.name] = ["chat"]
        for api in APIS[1:]:
            why = None
            for stream in (False, True):
                why = why or await probe(api_target(gateway, api, stream))
            if why is None:
                served[gateway.name].append(api)
            else:
                reasons.append(f"{NAMES[gateway.name]} {PATHS[api]} not measured: {why}")
    return served, reasons


def cpu_vs_chat(name: str, api: str, m: Measured, chat: Measured) -> str:
    if api == "chat":
        return "1.00x"
    shown = ratio(m.cpu_ms_per_request, chat.cpu_ms_per_request)
    limit = TARGETS.get(api)
    if name != "drafter" or limit is None or not chat.cpu_ms_per_request:
        return shown
    met = m.cpu_ms_per_request <= limit * chat.cpu_ms_per_request
    return f"{shown} (target ≤ {limit:.1f}x: {'met' if met else 'NOT met'})"


async def new_paths(
    lineup: Lineup, requests: int, rounds: int, *, chat_warm: bool = False
) -> list[str]:
    """The table; ``chat_warm``: chat completions have run on these gateways already."""
    gateways = lineup.gateways
    served, reasons = await served_apis(gateways)
    for gateway in gateways:
        for api in served[gateway.name][1 if chat_warm else 0 :]:
            for stream in (False, True):
                await warm_up(api_target(gateway, api, stream))
    rows: list[list[str]] = []
    for stream in (False, True):
        label = f"{'stream' if stream else 'JSON'} c={CONCURRENCY}"
        runs = {(g.name, api): Measured() for g in gateways for api in served[g.name]}
        for _ in range(rounds):
            for gateway in gateways:
                for api in served[gateway.name]:
                    target = api_target(gateway, api, stream)
                    m = await measure(gateway, target, CONCURRENCY, requests)
                    runs[gateway.name, api].add(m.result, m.cpu_s)
        for (name, api), m in runs.items():
            r = m.result
            rows.append(
                [
                    label,
                    NAMES[name],
                    PATHS[api],
                    f"{r.rps:.0f}",
                    ms(percentile(r.latencies, 50)),
                    ms(percentile(r.latencies, 99)),
                    f"{m.cpu_ms_per_request:.2f}",
                    cpu_vs_chat(name, api, m, runs[name, "chat"]),
                    str(r.errors),
                ]
            )
        for (name, api), m in runs.items():
            d = runs.get(("drafter", api))
            if name == "drafter" or d is None:
                continue
            rows.append(
                [
                    label,
                    f"**Drafter/{NAMES[name]}**",
                    PATHS[api],
                    ratio(d.result.rps, m.result.rps),
                    "",
                    "",
                    ratio(d.cpu_ms_per_request, m.cpu_ms_per_request),
                    "",
                    "",
                ]
            )
        print(f"done: paths {label}", flush=True)
    note = tick_note(requests * rounds)
    return [*markdown_table(HEADER, rows), "", *lineup.skipped, *reasons, note]
