"""The chat service's one upstream client."""

from __future__ import annotations

import os

import pytest

from drafter.services.chat.main import build_client, open_telemetry_option
from drafter.services.chat.settings import ChatSettings


@pytest.mark.parametrize(
    ("environ", "option"),
    [
        ({}, False),
        ({"PATH": "/bin"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, None),
        ({"ANTHROPIC_OPEN_TELEMETRY": "1"}, None),
    ],
)
def test_spans_only_once_the_operator_set_up_open_telemetry(
    environ: dict[str, str], option: bool | None
) -> None:
    assert open_telemetry_option(environ) is option


async def test_the_client_has_the_configured_retries_and_no_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith(("OTEL_", "ANTHROPIC_OPEN_TELEMETRY")):
            monkeypatch.delenv(name)
    settings = ChatSettings(anthropic_base_url="http://127.0.0.1:9", anthropic_api_key="sk-test")
    client = build_client(settings)
    try:
        assert client.max_retries == settings.upstream_max_retries
        assert client.open_telemetry["traces"]["enabled"] is False
    finally:
        await client.close()
