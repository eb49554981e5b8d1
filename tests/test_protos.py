"""The contracts: buf lint is clean and the committed generated code is up to date."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generated_files(tree: Path) -> set[Path]:
    return {
        p.relative_to(tree)
        for p in tree.rglob("*")
        if p.is_file() and ("_pb2" in p.name) and "__pycache__" not in p.parts
    }


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "gen_protos.sh"), str(tmp_path)], check=True)
    fresh = _generated_files(tmp_path / "drafter")
    committed = _generated_files(ROOT / "drafter")
    assert fresh == committed, "run scripts/gen_protos.sh: generated files differ"
    stale = [
        str(p)
        for p in sorted(fresh)
        if not filecmp.cmp(tmp_path / "drafter" / p, ROOT / "drafter" / p, shallow=False)
    ]
    assert not stale, f"stale generated code (run scripts/gen_protos.sh): {stale}"


def test_buf_lint_is_clean() -> None:
    result = subprocess.run(["buf", "lint"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
