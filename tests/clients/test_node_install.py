"""The pinned Node.js clients as ``scripts/test.sh`` installs them: each one imports on the
machine's node, and the Claude Code CLI runs from the install with a temporary HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support import node_clients

pytestmark = pytest.mark.slow

PACKAGE_JSON = node_clients.CLIENTS_DIR / "package.json"


def pinned() -> dict[str, str]:
    dependencies: dict[str, str] = json.loads(PACKAGE_JSON.read_text())["dependencies"]
    return dependencies


def test_every_dependency_is_pinned_to_an_exact_version() -> None:
    lock = json.loads((node_clients.CLIENTS_DIR / "package-lock.json").read_text())
    for name, version in pinned().items():
        assert version.count(".") == 2 and version.replace(".", "").isdigit(), (name, version)
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_each_client_imports_at_its_pinned_version() -> None:
    installed = node_clients.run_script("versions.mjs", env={})

    commands = ("zod", CLAUDE_CODE, CODEX)  # zod and the CLIs are not imported
    expected = {name: v for name, v in pinned().items() if name not in commands}
    assert installed["versions"] == expected
    assert int(installed["node"].split(".")[0]) >= 20


CLAUDE_CODE = "@anthropic-ai/claude-code"
CODEX = "@openai/codex"


def test_claude_version_runs_with_a_temporary_home(tmp_path: Path) -> None:
    result = node_clients.run_bin("claude", "--version", env={"HOME": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{pinned()[CLAUDE_CODE]} (Claude Code)"


def test_claude_runs_with_the_given_environment_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_anthropic: FakeAnthropic
) -> None:
    """``run_bin`` hands ``claude`` the given variables over a clean environment: it asks
    the given base URL with the given key, and a developer's own token never reaches it."""
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "developers-own-token")
    env = {
        "HOME": str(tmp_path),
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
        "ANTHROPIC_API_KEY": "sk-ant-given",
        "ANTHROPIC_MODEL": "claude-haiku-4-5",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
    }
    fake_anthropic.enqueue(text="hello from the fake")

    result = node_clients.run_bin("claude", "-p", "say hello", "--output-format", "json", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["result"] == "hello from the fake"
    request = fake_anthropic.last_request
    assert request.headers["x-api-key"] == "sk-ant-given"
    assert "authorization" not in request.headers
    assert request.body["model"] == "claude-haiku-4-5"


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
def test_a_missing_install_skips_off_ci_and_fails_on_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(node_clients, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome, match="npm ci in tests/clients"):
        node_clients.run_script("versions.mjs", env={})
