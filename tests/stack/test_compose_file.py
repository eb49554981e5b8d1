"""docker-compose.yml is valid and wires every service the way the code expects."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_ENV = {
    "POSTGRES_PASSWORD": "secret",
    "ANTHROPIC_API_KEY": "sk-test",
    "DRAFTER_SECRET_KEY": "kX9vQ2mZ7rT4wB8nL1pY6cJ3hF5dG0sA",
    "DRAFTER_INTERNAL_TOKEN": "pQ4wE8rT2yU6iO0aS3dF7gH1jK5lZ9xC",
    "DRAFTER_RESERVATION_KEY": "vB3nM7qW1eR5tY9uI2oP6aS0dF4gH8jK",
}
DRAFTER_SERVICES = ("accounts", "chat", "images", "edge")


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED_ENV}
    return subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_compose_file_is_valid() -> None:
    result = _config(REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert set(config["services"]) == {"postgres", "redis", *DRAFTER_SERVICES}
    for name in DRAFTER_SERVICES:
        service = config["services"][name]
        assert service["command"][:3] == ["drafter", "serve", name]
        assert "healthcheck" in service, name
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["REDIS_URL"].startswith("redis://")
    edge = config["services"]["edge"]
    assert {d: c["condition"] for d, c in edge["depends_on"].items()} == {
        "accounts": "service_healthy",
        "chat": "service_healthy",
        "images": "service_healthy",
    }


def test_compose_refuses_to_start_without_required_secrets() -> None:
    for missing in REQUIRED_ENV:
        result = _config({k: v for k, v in REQUIRED_ENV.items() if k != missing})
        assert result.returncode != 0
        assert missing in result.stderr


def test_every_service_uses_the_one_dockerfile() -> None:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in DRAFTER_SERVICES:
        assert raw["services"][name]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_only_the_edge_is_published_and_the_services_share_the_internal_token() -> None:
    """The gRPC services, PostgreSQL and Redis are on the internal network only (no way
    out, nothing published); the edge alone has a published port; every Drafter process
    gets the same required DRAFTER_INTERNAL_TOKEN."""
    config = yaml.safe_load(_config(REQUIRED_ENV).stdout)
    assert config["networks"]["internal"]["internal"] is True
    for name, service in config["services"].items():
        assert "internal" in service["networks"], name
        assert "public" in service["networks"] or name != "edge"
        if name != "edge":
            assert "ports" not in service, name
            assert "public" not in service["networks"], name
    assert [p["target"] for p in config["services"]["edge"]["ports"]] == [8080]
    for name in ("postgres", "redis"):
        assert set(config["services"][name]["networks"]) == {"internal"}, name
    tokens = {
        config["services"][n]["environment"]["DRAFTER_INTERNAL_TOKEN"] for n in DRAFTER_SERVICES
    }
    assert tokens == {REQUIRED_ENV["DRAFTER_INTERNAL_TOKEN"]}
    raw = (ROOT / "docker-compose.yml").read_text()
    assert "${DRAFTER_INTERNAL_TOKEN:?" in raw
