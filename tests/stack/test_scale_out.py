"""Several edge processes on one port: ``drafter up --edge-workers 2``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import openai

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import drafter_command, start_drafter_up


def _edge_workers(parent: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(parent), "-f", "serve edge"], capture_output=True, text=True
    ).stdout
    return [int(pid) for pid in out.split()]


def test_two_edge_processes_share_the_port(tmp_path: Path, fake_anthropic: FakeAnthropic) -> None:
    stack = start_drafter_up(
        tmp_path, anthropic_base_url=fake_anthropic.base_url, up_args=("--edge-workers", "2")
    )
    try:
        workers = _edge_workers(stack.processes[0].pid)
        assert len(workers) == 1
        key = stack.create_user_with_key("scale@example.com", "plus")
        client = openai.OpenAI(api_key=key, base_url=stack.api_url, max_retries=0)
        for i in range(12):  # new connections, spread by the kernel over both processes
            with httpx.Client() as fresh:
                assert fresh.get(f"{stack.base_url}/healthz").status_code == 200
            reply = client.chat.completions.create(
                model="claude-haiku-4-5", messages=[{"role": "user", "content": f"hi {i}"}]
            )
            assert reply.choices[0].message.content
    finally:
        code = stack.stop()
    assert code == 0, stack.output()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_edge_workers_must_be_positive(tmp_path: Path) -> None:
    result = subprocess.run(
        drafter_command("up", "--edge-workers", "0"),
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DRAFTER_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "edge-workers" in result.stderr
