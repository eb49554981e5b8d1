"""``drafter admin db migrate``, the production overlay's migration Job: it brings an
empty database to the newest schema revision, and running it again changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from drafter.cli import main


def test_migrate_brings_the_database_to_the_newest_revision_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "drafter.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("DRAFTER_DATA_DIR", str(tmp_path))

    assert main(["admin", "db", "migrate"]) == 0
    first = capsys.readouterr().out.strip().splitlines()[-1]
    with sqlite3.connect(database) as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert first == f"Database schema at revision {revision}."
    assert {"users", "api_keys"} <= tables

    assert main(["admin", "db", "migrate"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == first
