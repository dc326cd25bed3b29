"""Run the store's Alembic migrations programmatically, from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, pool

from geogrid.db.engine import make_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config whose scripts are the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database at url (default: the settings') up to revision; (revision before, revision after)."""
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        config = alembic_config(url)
        with engine.begin() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            after = MigrationContext.configure(connection).get_current_revision()
        return before, after
    finally:
        engine.dispose()


def describe_upgrade(before: str | None, after: str | None) -> str:
    """What an upgrade did, in one line: created the store, upgraded it from one revision to another, or nothing."""
    if before is None:
        return f"created the store (schema {after})"
    if before == after:
        return f"the store is up to date (schema {after})"
    return f"upgraded the store from {before} to {after}"


def is_current(engine: Engine) -> bool:
    """True when the database's schema is at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
