"""The chat service's one upstream client: our own for an API key or a token, the
anthropic SDK's only for a credential of its own sources (a profile here), and then with
the configured retries and no spans."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from drafter.services.chat.main import build_messages_api
from drafter.services.chat.upstream.config import sdk_credentials_configured
from drafter.services.chat.upstream.exceptions import UpstreamStatusError
from drafter.services.chat.upstream.sdk import SdkRequests, open_telemetry_option
from tests.chat.conftest import chat_settings
from tests.chat.upstream.test_client import PARAMS
from tests.fakes.anthropic_server import FakeAnthropic, Reply

CREDENTIAL_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_API_KEYS",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_CONFIG_DIR",
    "ANTHROPIC_FEDERATION_RULE_ID",
    "ANTHROPIC_IDENTITY_TOKEN",
    "ANTHROPIC_IDENTITY_TOKEN_FILE",
)


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


def test_the_sdks_sources_are_looked_for_only_where_it_looks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert not sdk_credentials_configured({})
    assert sdk_credentials_configured({"ANTHROPIC_PROFILE": "work"})
    assert sdk_credentials_configured({"ANTHROPIC_FEDERATION_RULE_ID": "fdrl_1"})
    assert not sdk_credentials_configured({"ANTHROPIC_PROFILE": ""})
    (tmp_path / ".config" / "anthropic").mkdir(parents=True)  # the SDK's config directory
    assert sdk_credentials_configured({})


@pytest.fixture
def clean_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("OTEL_", "ANTHROPIC_OPEN_TELEMETRY")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no SDK config directory


def _profile(config_dir: Path, token: str) -> None:
    """A profile whose access token a sidecar keeps current (the SDK re-reads it)."""
    (config_dir / "configs").mkdir(parents=True)
    (config_dir / "credentials").mkdir()
    (config_dir / "configs" / "default.json").write_text(
        json.dumps({"authentication": {"type": "user_oauth"}})
    )
    credentials = config_dir / "credentials" / "default.json"
    credentials.write_text(json.dumps({"access_token": token}))
    credentials.chmod(0o600)


async def test_a_profile_goes_through_the_sdk_with_the_configured_retries_and_no_spans(
    clean_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fake_anthropic: FakeAnthropic,
) -> None:
    _profile(tmp_path / "anthropic", "profile-token")
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic"))
    settings = chat_settings(fake_anthropic, anthropic_api_key=None, upstream_max_retries=1)

    messages = await build_messages_api(settings)
    try:
        sdk = messages._sdk
        assert isinstance(sdk, SdkRequests) and sdk.kind == "CredentialsFile"
        assert sdk.client.max_retries == settings.upstream_max_retries
        assert sdk.client.open_telemetry["traces"]["enabled"] is False
        assert messages.key_health() == []

        async with messages.open(PARAMS, stream=False) as response:
            assert response.status_code == 200
        assert fake_anthropic.last_request.headers["authorization"] == "Bearer profile-token"
        assert fake_anthropic.last_request.headers["anthropic-version"] == "2023-06-01"

        fake_anthropic.enqueue(*(Reply(status=529, headers={"retry-after-ms": "5"}),) * 2)
        with pytest.raises(UpstreamStatusError) as raised:  # ours, at the SDK's boundary
            async with messages.open(PARAMS, stream=False):
                pass
        assert raised.value.status_code == 529 and len(fake_anthropic.requests) == 3
    finally:
        await messages.aclose()


async def test_without_any_credential_the_sdk_is_not_used(
    clean_credentials: None, fake_anthropic: FakeAnthropic
) -> None:
    messages = await build_messages_api(chat_settings(fake_anthropic, anthropic_api_key=None))
    try:
        assert messages._sdk is None
    finally:
        await messages.aclose()


async def test_an_sdk_config_directory_without_a_profile_falls_back_to_no_credential(
    clean_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fake_anthropic: FakeAnthropic,
) -> None:
    (tmp_path / "home" / ".config" / "anthropic").mkdir(parents=True)
    messages = await build_messages_api(chat_settings(fake_anthropic, anthropic_api_key=None))
    try:
        assert messages._sdk is None
        fake_anthropic.enqueue(Reply(status=401, error_type="authentication_error"))
        with pytest.raises(UpstreamStatusError):
            async with messages.open(PARAMS, stream=False):
                pass
        assert "authorization" not in fake_anthropic.last_request.headers
    finally:
        await messages.aclose()
