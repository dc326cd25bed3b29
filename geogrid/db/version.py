"""The store's data version (see geogrid.store.audit), read from async code without a worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

QUERY = "SELECT version FROM data_version WHERE id = 1"


class VersionReader:
    """Reads the data version for every signed-in request, on the event loop.

    On PostgreSQL over one async connection per event loop, a query at a time (a round trip of well under
    a millisecond); on SQLite from a read-only connection of the file (a local read of microseconds).
    Every audited write through geogrid raises it, so a new version means that something changed.
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._sqlite_path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        self._conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: tuple[int, psycopg.AsyncConnection, asyncio.Lock] | None = None
        self._guard = threading.Lock()

    async def read(self) -> int:
        """The data version (0 before the first audited change)."""
        if self._sqlite_path is not None:
            return self._read_sqlite()
        try:
            return await self._read_postgres()
        except psycopg.OperationalError:  # the connection was lost (a restart, say): one new try
            self.close()
            try:
                return await self._read_postgres()
            except psycopg.OperationalError as exc:
                raise OperationalError(QUERY, None, exc) from exc

    def close(self) -> None:
        """Close the connections (a later read opens them again)."""
        with self._guard:
            if self._postgres is not None:
                self._postgres[1].pgconn.finish()
                self._postgres = None
            if self._sqlite is not None:
                self._sqlite.close()
                self._sqlite = None

    def _read_sqlite(self) -> int:
        with self._guard:
            if self._sqlite is None:
                uri = Path(str(self._sqlite_path)).resolve().as_uri() + "?mode=ro"
                self._sqlite = sqlite3.connect(uri, uri=True, check_same_thread=False)
            try:
                return int(self._sqlite.execute(QUERY).fetchone()[0] or 0)
            except sqlite3.Error as exc:
                self._sqlite.close()
                self._sqlite = None
                raise OperationalError(QUERY, None, exc) from exc

    async def _read_postgres(self) -> int:
        connection, lock = await self._postgres_connection()
        async with lock:
            cursor = await connection.execute(QUERY, prepare=True)
            row = await cursor.fetchone()
        return int(row[0] or 0) if row else 0

    async def _postgres_connection(self) -> tuple[psycopg.AsyncConnection, asyncio.Lock]:
        """This event loop's connection (a test client may run several loops one after another)."""
        loop = id(asyncio.get_running_loop())
        found = self._postgres
        if found is not None and found[0] == loop and not found[1].closed:
            return found[1], found[2]
        connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        with self._guard:
            found = self._postgres
            if found is not None and found[0] == loop and not found[1].closed:  # another request was first
                connection.pgconn.finish()
                return found[1], found[2]
            if found is not None:
                found[1].pgconn.finish()
            self._postgres = (loop, connection, asyncio.Lock())
            return connection, self._postgres[2]
