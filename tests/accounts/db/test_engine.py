"""Engines and migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from drafter.services.accounts.db.engine import async_url, create_engine, run_migrations, sync_url
from drafter.services.accounts.db.tables import metadata
from drafter.services.accounts.settings import AccountsSettings


@pytest.mark.parametrize(
    ("url", "async_driver", "sync_driver"),
    [
        ("sqlite:///data/drafter.db", "sqlite+inline", "sqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+inline", "sqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg", "postgresql+psycopg"),
    ],
)
def test_urls_are_normalised_to_drivers(url: str, async_driver: str, sync_driver: str) -> None:
    assert async_url(url).drivername == async_driver
    assert sync_url(url).drivername == sync_driver


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = AccountsSettings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'drafter.db'}"


def migrations_head() -> str:
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    location = resources.files("drafter.services.accounts.db").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_migrations_build_the_tables_on_a_fresh_database(fresh_database_url: str) -> None:
    head = migrations_head()
    assert run_migrations(fresh_database_url) == head
    assert run_migrations(fresh_database_url) == head  # idempotent
    engine = sa.create_engine(sync_url(fresh_database_url), poolclass=sa.NullPool)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        with warnings.catch_warnings():  # SQLite cannot reflect the lower(email) index
            warnings.simplefilter("ignore")
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert {"users", "api_keys", "usage_records", "quota_counters", "alembic_version"} <= names
    assert {"credentials_epoch", "discount_codes", "code_redemptions"} <= names
    assert diff == []


async def test_sqlite_engine_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new' / 'x.db'}")
    async with engine.connect() as conn:
        mode = (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar()
        timeout = (await conn.execute(sa.text("PRAGMA busy_timeout"))).scalar()
    await engine.dispose()
    assert mode == "wal"
    assert timeout is not None and timeout >= 1000
