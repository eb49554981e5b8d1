"""``drafter admin user|key ...`` as a subprocess on a DRAFTER_DATA_DIR SQLite database."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drafter.model_table import load_model_table
from services.accounts.admission import Admission
from services.accounts.db import create_engine
from services.accounts.plans import load_plans
from services.accounts.quota_sql import SqlQuotaStore

pytestmark = pytest.mark.slow


def drafter(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DRAFTER_PLANS_FILE")}
    env["DRAFTER_DATA_DIR"] = str(data_dir)
    exe = shutil.which("drafter")
    command = [exe] if exe else [sys.executable, "-m", "drafter.cli"]
    return subprocess.run(
        [*command, "admin", *args], env=env, capture_output=True, text=True, timeout=60
    )


def authorize(data_dir: Path, key: str, model: str) -> str:
    """Authorizes ``key`` for ``model`` against the CLI's database; returns the plan."""

    async def run() -> str:
        models = load_model_table()
        engine = create_engine(f"sqlite:///{data_dir / 'drafter.db'}")
        admission = Admission(
            engine=engine,
            plans=load_plans(models=models),
            models=models,
            quotas=SqlQuotaStore(engine),
        )
        try:
            auth = await admission.authorize(credential=key, kind="chat", model=model, units=1)
            return auth.plan.key
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_user_create_key_create_and_set_plan(tmp_path: Path) -> None:
    created = drafter(tmp_path, "user", "create", "Ops@Example.com")
    assert created.returncode == 0, created.stderr
    password_lines = [ln for ln in created.stdout.splitlines() if ln.startswith("Password: ")]
    assert len(password_lines) == 1 and len(password_lines[0]) > len("Password: ") + 8
    assert (tmp_path / "drafter.db").exists()

    key = drafter(tmp_path, "key", "create", "ops@example.com", "--name", "ci")
    assert key.returncode == 0, key.stderr
    secret = key.stdout.strip().splitlines()[-1]
    assert secret.startswith("dp_") and " " not in secret and len(secret) >= 46
    assert authorize(tmp_path, secret, "claude-haiku") == "free"

    moved = drafter(tmp_path, "user", "set-plan", "ops@example.com", "plus")
    assert moved.returncode == 0, moved.stderr
    assert authorize(tmp_path, secret, "claude-opus") == "plus"


def test_given_password_is_not_printed(tmp_path: Path) -> None:
    created = drafter(tmp_path, "user", "create", "a@example.com", "--password", "hunter2hunter2")
    assert created.returncode == 0, created.stderr
    assert "hunter2hunter2" not in created.stdout and "Password" not in created.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("user", "set-plan", "nobody@example.com", "pro"),
        ("user", "create", "b@example.com", "--plan", "gold"),
        ("key", "create", "nobody@example.com"),
        ("user", "create", "not-an-email"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = drafter(tmp_path, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("drafter: ")
    assert "Traceback" not in result.stderr


def test_key_limit_error(tmp_path: Path) -> None:
    assert drafter(tmp_path, "user", "create", "c@example.com").returncode == 0
    assert drafter(tmp_path, "key", "create", "c@example.com").returncode == 0
    result = drafter(tmp_path, "key", "create", "c@example.com")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "drafter: The Free plan allows 1 API key(s); revoke one or upgrade your plan."
    ]
