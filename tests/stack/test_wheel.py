"""The installed package (what the Docker image runs, not an editable checkout) carries
every data file the services read at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_FILES = (
    "drafter/models.toml",
    "services/accounts/plans/plans.toml",
    "services/accounts/db/migrations/env.py",
    "services/accounts/db/migrations/script.py.mako",
    "edge/web/templates/base.html",
    "edge/web/templates/status.html",
    "edge/web/templates/dashboard/overview.html",
    "edge/web/static/style.css",
    "edge/web/static/dashboard.js",
    "drafter/chat/v1/chat_service_pb2.pyi",
)


def test_wheel_carries_templates_static_files_tables_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("drafter-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in DATA_FILES if f not in names]
    assert not missing, f"not in the wheel: {missing}"
    migrations = sorted(ROOT.glob("services/accounts/db/migrations/versions/0*.py"))
    assert migrations and all(
        f"services/accounts/db/migrations/versions/{m.name}" in names for m in migrations
    )
    templates = ROOT.glob("edge/web/templates/**/*.html")
    assert all(str(t.relative_to(ROOT)) in names for t in templates)
    assert not any(n.startswith("tests/") for n in names)
