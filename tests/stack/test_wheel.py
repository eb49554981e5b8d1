"""The installed package (what the Docker image runs, not an editable checkout): one
top-level package, ``drafter``, with the services/ and edge/ folders inside it as
drafter.services and drafter.edge, carrying every module and every data file the
services read at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_FILES = (
    "drafter/models.toml",
    "drafter/services/accounts/plans/plans.toml",
    "drafter/services/accounts/db/migrations/env.py",
    "drafter/services/accounts/db/migrations/script.py.mako",
    "drafter/edge/web/templates/base.html",
    "drafter/edge/web/templates/status.html",
    "drafter/edge/web/templates/dashboard/overview.html",
    "drafter/edge/web/static/style.css",
    "drafter/edge/web/static/dashboard.js",
    "drafter/chat/v1/chat_service_pb2.pyi",
)
# Where each folder of the repository lands in the wheel.
FOLDERS = {"drafter": "drafter", "services": "drafter/services", "edge": "drafter/edge"}


def _wheel_names(tmp_path: Path) -> set[str]:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("drafter-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_the_wheel_is_one_drafter_package_with_every_module_and_data_file(
    tmp_path: Path,
) -> None:
    names = _wheel_names(tmp_path)

    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"drafter"}
    missing = [f for f in DATA_FILES if f not in names]
    assert not missing, f"not in the wheel: {missing}"
    for folder, installed in FOLDERS.items():
        sources = [
            p
            for p in (ROOT / folder).rglob("*")
            if p.suffix in (".py", ".html", ".mako")
            and "__pycache__" not in p.parts
            and not p.is_relative_to(ROOT / "drafter" / "services")
            and not p.is_relative_to(ROOT / "drafter" / "edge")
        ]
        assert sources
        absent = [
            str(p) for p in sources if f"{installed}/{p.relative_to(ROOT / folder)}" not in names
        ]
        assert not absent, f"not in the wheel: {absent}"
