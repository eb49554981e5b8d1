"""The tests' PostgreSQL and Redis: throwaway databases, emptied tables, the tests' own
Redis database. ``scripts/test.sh`` starts both on their standard local ports."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator

import psycopg
import pytest
import redis
import sqlalchemy as sa

from drafter.services.accounts.db.engine import sync_url

POSTGRES_ADMIN_URL = os.environ.get(
    "DRAFTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("DRAFTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
# Emptying these (CASCADE) empties every table that refers to a user.
# Emptied between tests (CASCADE empties what refers to users); e-mail cooldowns, which
# outlive their deleted user, too.
DATA_TABLES = ("usage_records", "quota_counters", "api_keys", "users", "email_cooldowns")


def _postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    """A new, empty ``drafter_test_<random>`` database, dropped afterwards."""
    if not _postgres_reachable():
        pytest.fail(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: scripts/test.sh starts it")
    name = f"drafter_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_tables(url: str, tables: Iterable[str] = DATA_TABLES) -> None:
    """Empties ``tables`` (CASCADE) of a migrated PostgreSQL database; nothing to do
    before the first migration."""
    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    with engine.begin() as conn:
        if sa.inspect(conn).has_table("users"):
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    engine.dispose()


def empty_test_redis() -> None:
    """Empties the tests' own Redis database (never the default one)."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.flushdb()
    except redis.RedisError:
        pytest.fail(f"Redis not reachable at {REDIS_TEST_URL}: scripts/test.sh starts it")
    finally:
        client.close()
