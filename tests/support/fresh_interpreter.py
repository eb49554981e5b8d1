"""A script run in a fresh interpreter (what a test of imports needs: nothing this test
process already imported counts), from the repository's root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_script(script: str, *args: str, env: dict[str, str], timeout: float) -> Any:
    """Runs ``script`` with ``args``; it must succeed and print JSON as its last line,
    which is returned."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
