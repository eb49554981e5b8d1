"""The start-up migration (``db.upgrade``): nothing to do at the newest revision, told
without Alembic; a migration due in this process or in a child process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from drafter.services.accounts.db import upgrade as upgrade_module
from drafter.services.accounts.db.engine import run_migrations, sync_url
from drafter.services.accounts.db.upgrade import (
    MigrationFailed,
    database_revision,
    head_revision,
    up_to_date,
    upgrade,
)
from tests.accounts.db.test_engine import migrations_head


def test_head_read_from_the_files_is_alembics() -> None:
    assert head_revision() == migrations_head()


def _write(folder: Path, name: str, revision: str, down: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(
        f'"""A migration."""\n\nrevision = "{revision}"\ndown_revision = {down}\n'
    )


def test_head_of_a_line_of_revisions(tmp_path: Path) -> None:
    _write(tmp_path, "__init__.py", "ignored", "None")
    _write(tmp_path, "a.py", "a1", "None")
    _write(tmp_path, "b.py", "b2", '"a1"')
    _write(tmp_path, "c.py", "c3", "'b2'")
    assert head_revision(tmp_path) == "c3"


@pytest.mark.parametrize(
    "second",
    [
        ("b.py", "b2", "None"),  # two roots, two heads
        ("b.py", "b2", '("a1", "x9")'),  # a merge: left to Alembic
    ],
)
def test_no_head_when_the_files_are_not_one_line(
    tmp_path: Path, second: tuple[str, str, str]
) -> None:
    _write(tmp_path, "a.py", "a1", "None")
    _write(tmp_path, *second)
    assert head_revision(tmp_path) is None


def test_database_revision_of_new_and_migrated_databases(fresh_database_url: str) -> None:
    assert database_revision(fresh_database_url) is None
    assert up_to_date(fresh_database_url) is None
    run_migrations(fresh_database_url)
    assert database_revision(fresh_database_url) == migrations_head()
    assert up_to_date(fresh_database_url) == migrations_head()


async def test_nothing_migrated_at_the_newest_revision(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_migrations(fresh_database_url)

    def no_migration(*args: object) -> None:
        raise AssertionError("migrated a database already at the newest revision")

    monkeypatch.setattr(upgrade_module, "run_migrations", no_migration)
    monkeypatch.setattr(upgrade_module, "CHILD", ("false",))
    assert await upgrade(fresh_database_url) == migrations_head()
    assert await upgrade(fresh_database_url, apart=True) == migrations_head()


async def test_a_new_database_is_migrated_here(fresh_database_url: str) -> None:
    assert await upgrade(fresh_database_url) == migrations_head()
    assert database_revision(fresh_database_url) == migrations_head()


async def test_a_new_database_is_migrated_in_a_child_process(fresh_database_url: str) -> None:
    assert await upgrade(fresh_database_url, apart=True) == migrations_head()
    assert database_revision(fresh_database_url) == migrations_head()


async def test_a_failed_migration_in_a_child_process_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'drafter.db'}"
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as conn:  # a revision no migration file knows
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('9999')"))
    engine.dispose()
    with pytest.raises(MigrationFailed, match="9999"):
        await upgrade(url, apart=True)


def test_the_child_reads_the_url_from_its_standard_input(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'drafter.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "drafter.services.accounts.db.upgrade"],
        input=url,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == migrations_head()
