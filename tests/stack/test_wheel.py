"""The installed package (what the Docker image runs, not an editable checkout): one
top-level package, ``drafter``, with the services/ and edge/ folders inside it as
drafter.services and drafter.edge, carrying every module and every data file the
services read at run time."""

from __future__ import annotations

import shutil
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


# Left out of the copy the wheel is built from: setuptools reuses an in-tree build/, whose
# leftovers from an older layout would end up in the wheel.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", "build", "dist", "data", "test-artifacts", "*.egg-info", "__pycache__", ".venv"
)


def _wheel_names(tmp_path: Path) -> set[str]:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    tmp_path = out
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
