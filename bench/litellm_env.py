"""The LiteLLM proxy in its own virtual environment, never a dependency of Drafter.

``ensure_litellm()`` creates ``bench/.venv-litellm`` and installs the pinned version from
PyPI. LiteLLM's metadata pins certifi and its companion packages (proxy migrations,
enterprise hooks) to releases a registry mirror may not serve yet, none of which the
benchmark uses (no database, no enterprise features, loopback only). So LiteLLM itself is
installed without dependencies, then its declared requirements (base + ``proxy`` extra),
with those few pins relaxed to the newest available release.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LITELLM_VERSION = "1.109.1"
VENV = Path(__file__).resolve().parent / ".venv-litellm"
# Exact pins the registry may not serve yet: taken at their newest available release.
RELAXED = ("certifi", "litellm-proxy-extras", "litellm-enterprise")

_REQUIREMENTS_SCRIPT = """
import sys
from importlib.metadata import requires
from packaging.requirements import Requirement
relaxed = set(sys.argv[1:])
for line in requires("litellm") or ():
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": "proxy"}):
        continue
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    print(f"{req.name}{extras}" + ("" if req.name in relaxed else str(req.specifier)))
"""


MARKER = VENV / f"installed-{LITELLM_VERSION}"


def litellm_binary() -> Path:
    return VENV / "bin" / "litellm"


def _pip(*args: str) -> None:
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *args], check=True)


def ensure_litellm() -> Path:
    """The ``litellm`` command of the benchmark's own environment, installed if needed."""
    if MARKER.exists():
        return litellm_binary()
    print(f"installing litellm[proxy]=={LITELLM_VERSION} into {VENV} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    _pip("packaging", "certifi")
    _pip("--no-deps", f"litellm=={LITELLM_VERSION}")
    requirements = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", _REQUIREMENTS_SCRIPT, *RELAXED],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    _pip(*requirements)
    MARKER.touch()
    return litellm_binary()


if __name__ == "__main__":
    print(ensure_litellm())
