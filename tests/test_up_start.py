"""How ``drafter up`` starts: the libraries of features a deployment has not configured
stay unimported (checked in a fresh interpreter running the stack, as this one has
imported them all long ago), and the database is migrated in a child process whose
failure ends the start with its reason."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from tests.support.fresh_interpreter import run_script
from tests.support.stack import base_env, drafter_command, free_port

# Each with what makes it needed: a Gemini key, a background-removal model, Redis
# (REDIS_URL: the edge's and accounts' stores), a migration (run in a child process), an
# upstream credential only the anthropic SDK can use (a profile, federation: not a key),
# a Responses reasoning item to seal or open (cryptography's AES-GCM), a PostgreSQL
# database (DRAFTER_DATABASE_URL: SQLAlchemy's PostgreSQL dialect, with all its drivers
# and types; tests/accounts/db/test_dialects.py).
NOT_IMPORTED = (
    "google.genai",
    "rembg",
    "onnxruntime",
    "alembic",
    "mako",
    "redis",
    "anthropic",
    "cryptography",
    "sqlalchemy.dialects.postgresql",
)

SCRIPT = """
import asyncio, json, os, signal, sys
from drafter.launch.up import run_stack

async def main(port):
    stack = asyncio.create_task(run_stack(port=port))
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            if stack.done():
                stack.result()
            await asyncio.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)
    await stack
    print(json.dumps(sorted(sys.modules)))

asyncio.run(main(int(sys.argv[1])))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "u2net-home").mkdir(exist_ok=True)
    return base_env(
        tmp_path / "data",
        ANTHROPIC_API_KEY="sk-ant-test",
        HOME=str(tmp_path),  # without the anthropic SDK's config directory (~/.config/anthropic)
        U2NET_HOME=str(tmp_path / "u2net-home"),
        DRAFTER_LOG_LEVEL="WARNING",
    )


def test_drafter_up_leaves_unconfigured_features_unimported(tmp_path: Path) -> None:
    env = _env(tmp_path)
    modules = set(run_script(SCRIPT, str(free_port()), env=env, timeout=120))
    assert "drafter.services.accounts.main" in modules  # the stack did run
    assert [name for name in NOT_IMPORTED if name in modules] == []
    assert (tmp_path / "data" / "drafter.db").exists()  # migrated, in a child process


def test_a_failed_migration_ends_drafter_up_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / "drafter.db") as db:  # a revision unknown here
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    done = subprocess.run(
        drafter_command("up", "--port", str(free_port())),
        env=_env(tmp_path),
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("drafter: MigrationFailed: ") and "9999" in last
