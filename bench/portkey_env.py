"""The Portkey gateway (Node) in its own ignored folder, never a dependency of Drafter.

``ensure_portkey()`` installs the pinned ``@portkey-ai/gateway`` into ``bench/.portkey``
with npm, its ``@hono/node-server`` forced to 1.14.1 through npm ``overrides``: later
versions break its streaming with ``TypeError: immutable`` (Portkey-AI/gateway#1389).
Returns ``None`` with a printed reason when node/npm are missing or the install fails
(``install_portkey()`` returns that reason instead, for a table to show).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.gateways import Gateway
from bench.procs import wait_http
from tests.support.stack import free_port

PORTKEY_VERSION = "1.15.2"
HONO_NODE_SERVER = "1.14.1"
FOLDER = Path(__file__).resolve().parent / ".portkey"
MARKER = FOLDER / f"installed-{PORTKEY_VERSION}"


def portkey_entry() -> Path:
    return FOLDER / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"


def install_portkey() -> str | None:
    """Installs the gateway if needed; why it cannot run here (``None`` when it can)."""
    if shutil.which("node") is None:
        return "node not found"
    if MARKER.exists():
        return None
    if shutil.which("npm") is None:
        return "npm not found"
    FOLDER.mkdir(exist_ok=True)
    package = {
        "name": "drafter-bench-portkey",
        "private": True,
        "dependencies": {"@portkey-ai/gateway": PORTKEY_VERSION},
        "overrides": {"@hono/node-server": HONO_NODE_SERVER},
    }
    (FOLDER / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    print(f"installing @portkey-ai/gateway@{PORTKEY_VERSION} into {FOLDER} ...", file=sys.stderr)
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=FOLDER,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 or not portkey_entry().exists():
        reason = (done.stderr.strip().splitlines() or ["no start script"])[-1]
        return f"npm install failed: {reason}"
    MARKER.touch()
    return None


def ensure_portkey() -> Path | None:
    """The gateway's start script, installed if needed; ``None`` (reason printed) if not."""
    reason = install_portkey()
    if reason is not None:
        print(f"Portkey skipped: {reason}", file=sys.stderr)
        return None
    return portkey_entry()


def start_portkey(workdir: Path, upstream: str) -> Gateway | None:
    """Portkey on loopback routing to the fake upstream (``None`` if it is not installable)."""
    entry = ensure_portkey()
    if entry is None:
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "portkey.log"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env["NODE_ENV"] = "production"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", str(entry), f"--port={port}", "--headless"],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/", timeout=60)
    headers = {"x-portkey-provider": "anthropic", "x-portkey-custom-host": f"{upstream}/v1"}
    return Gateway("portkey", base, "sk-ant-bench", process, [log], headers)


if __name__ == "__main__":
    print(ensure_portkey())
