"""Bringing the accounts database to the newest schema when the service starts, with
Alembic kept out of the service's memory where it can be.

A database already at the newest revision (every start but the first) is told apart
without Alembic: the newest revision is read from the migration files' ``revision`` and
``down_revision`` lines, the database's from its ``alembic_version`` table. Otherwise
``engine.run_migrations`` runs, in this process or (``apart``) in a child process
(``python -m drafter.services.accounts.db.upgrade``, the URL on its standard input, never
on its command line), so that a long-running service never imports Alembic, which with
Mako and every dialect's DDL holds about 10 MB. Migration files the simple reading cannot
follow (a merge, a branch) leave the decision to Alembic.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from importlib.resources.abc import Traversable

import sqlalchemy as sa

from drafter import logs
from drafter.services.accounts.db.engine import MIGRATIONS, run_migrations, sync_engine

log = logging.getLogger("drafter.accounts.db")

CHILD = (sys.executable, "-m", "drafter.services.accounts.db.upgrade")
_REVISION = re.compile(r"""^revision\s*=\s*["']([^"']+)["']\s*$""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"""^down_revision\s*=\s*(?:None|["']([^"']+)["'])\s*$""", re.MULTILINE)


class MigrationFailed(Exception):
    """The child process migrating the database failed; the message is its reason."""


def head_revision(versions: Traversable = MIGRATIONS / "versions") -> str | None:
    """The newest revision of the migration files in ``versions``; None unless each file
    names one revision and at most one parent and they make a single head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        text = entry.read_text(encoding="utf-8")
        revision, parent = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(revision) != 1 or len(parent) != 1:
            return None
        revisions.add(revision[0])
        if parent[0]:
            parents.add(parent[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def database_revision(url: str) -> str | None:
    """The revision recorded in the database's ``alembic_version`` table; None when it
    has none (a new database). Fails as a migration would when the database is
    unreachable."""
    engine = sync_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            return revision.scalar()
    finally:
        engine.dispose()


def up_to_date(url: str) -> str | None:
    """The database's revision when it is the newest one (nothing to migrate), else None."""
    head = head_revision()
    return head if head is not None and database_revision(url) == head else None


async def upgrade(url: str, *, apart: bool = False) -> str | None:
    """Migrates the database at ``url`` to the newest revision unless it is there
    already; returns its revision. ``apart``: a migration runs in a child process."""
    revision = await asyncio.to_thread(up_to_date, url)
    if revision is not None:
        log.debug("database schema at revision %s: nothing to migrate", revision)
        return revision
    if not apart:
        return await asyncio.to_thread(run_migrations, url)
    return await _migrate_in_child(url)


async def _migrate_in_child(url: str) -> str | None:
    """Runs ``main`` in a child process: its log lines go where this process's go, its
    standard output is the revision reached or, with exit code 1, the reason it failed.
    ``subprocess`` starts it with vfork, which skips gRPC's fork handlers (an event
    loop's own subprocesses may fork, and gRPC then logs that it skipped them); a stop
    asked meanwhile waits for the migration to end rather than cut it short."""
    done = await asyncio.to_thread(
        subprocess.run, CHILD, input=url.encode(), stdout=subprocess.PIPE, check=False
    )
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    if done.returncode != 0:
        raise MigrationFailed(
            lines[-1] if lines else f"the migration exited with code {done.returncode}"
        )
    return lines[-1] if lines else None


def main() -> int:
    """The child process: migrates the database whose URL is on standard input; prints
    the revision reached, or the reason it failed on one line (exit code 1)."""
    logs.configure_logging(
        os.environ.get("DRAFTER_LOG_LEVEL", "INFO"),
        os.environ.get(logs.LOG_FORMAT_ENV, "text"),
    )
    try:
        revision = run_migrations(sys.stdin.read().strip())
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", flush=True)
        return 1
    print(revision or "", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
