"""SQLAlchemy engines for SpatiaLite (embedded) and PostGIS."""

from __future__ import annotations

import os
import sqlite3
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from geoalchemy2.admin.dialects.sqlite import load_spatialite
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from geogrid.errors import InputError

from geogrid.store.settings import get_store_settings

INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for "permission denied"

# GeoAlchemy2's listener loads the module named here (a path or a name the loader finds).
os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")


def make_engine(url: str | None = None, **kwargs: object) -> Engine:
    """An engine for url (default: the settings' URL) with its spatial extension ready."""
    parsed = make_url(url or str(get_store_settings().database_url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we install
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "postgresql":
        ensure_postgis(engine)
    return engine


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """One shared engine per URL for the process."""
    return make_engine(url)


def ensure_postgis(engine: Engine) -> None:
    """CREATE EXTENSION postgis unless the database already has it; InputError in one line, with the SQL a
    superuser must run, when this role may not create it (or the server has no PostGIS to install)."""
    with engine.begin() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'"))
        if found.first() is not None:
            return
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except DBAPIError as exc:
        raise InputError(_no_postgis(engine, exc)) from None


def _no_postgis(engine: Engine, exc: DBAPIError) -> str:
    database, user = engine.url.database, engine.url.username or "this role"
    code = getattr(exc.orig, "sqlstate", None)
    if code == INSUFFICIENT_PRIVILEGE:
        return (f"PostGIS is not enabled in database {database} and role {user} may not enable it: "
                f"ask a superuser to run  CREATE EXTENSION postgis;  in it (psql -d {database} -c "
                f"'CREATE EXTENSION postgis;'), then run geogrid db upgrade again")
    reason = " ".join(str(exc.orig).split())[:200]
    return (f"cannot enable PostGIS in database {database} ({reason}): install PostGIS on the database server "
            f"(Debian: postgresql-15-postgis-3) and run  CREATE EXTENSION postgis;  in it as a superuser")


def _sqlite_engine(url: URL, **kwargs: object) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_file(Path(database))
    engine = create_engine(url, module=sqlite_module(), **kwargs)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def private_file(path: Path) -> None:
    """Create the store's file readable by its owner only (0600; its folder 0700 when made here), before SQLite
    opens it: SQLite gives its -wal and -shm files the same mode. An existing file is left as it is."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


WRITE = "geogrid_write"  # execution option: this transaction will write


def read_options(engine: Engine) -> dict[str, object]:
    """Execution options for read-only work: on PostgreSQL no BEGIN and COMMIT round trips (autocommit;
    under READ COMMITTED each statement has its own snapshot anyway); on SQLite none (a deferred
    transaction keeps one snapshot for all reads)."""
    return {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}


def single_statement_options(engine: Engine) -> dict[str, object]:
    """Execution options for a request whose write is one statement (a report: its case and event are one INSERT
    on PostgreSQL): on PostgreSQL autocommit, so that statement commits on its own, atomic and durable as any
    commit, without the BEGIN and COMMIT round trips; on SQLite a writing transaction (BEGIN IMMEDIATE)."""
    return {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {WRITE: True}


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for a transaction that will write: it waits for the write lock up front
    (busy_timeout) instead of failing when another writer committed after its first read."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def _sqlite_connect(dbapi_conn: sqlite3.Connection, record: object) -> None:
    # Let SQLAlchemy's "begin" listener issue BEGIN, so DDL and SAVEPOINTs are transactional.
    dbapi_conn.isolation_level = None
    load_spatialite(dbapi_conn, transaction=True, init_mode="WGS84")
    dbapi_conn.execute("PRAGMA foreign_keys = ON")
    dbapi_conn.execute("PRAGMA busy_timeout = 10000")
    dbapi_conn.execute("PRAGMA journal_mode = WAL")  # readers don't wait for a writer (files only)


def sqlite_module() -> ModuleType:
    """A DB-API sqlite3 module that can load extensions (some Python builds cannot)."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        from pysqlite3 import dbapi2
    except ImportError as exc:  # pragma: no cover - depends on the Python build
        raise RuntimeError("this Python's sqlite3 cannot load extensions: pip install pysqlite3-binary") from exc
    return dbapi2
