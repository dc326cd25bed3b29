"""The store's data version (see geogrid.store.audit), read from async code without a worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import pq
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from geogrid.db.loop_pool import libpq_conninfo

QUERY = "SELECT version FROM data_version WHERE id = 1"


class _Wave:
    """The callers waiting for the next query (a future they share) and the task that runs the queries."""

    def __init__(self) -> None:
        self.next: asyncio.Future[int] | None = None
        self.runner: asyncio.Task[None] | None = None


class VersionReader:
    """Reads the data version for every signed-in request, on the event loop.

    On PostgreSQL over one async connection per event loop, a query at a time (a round trip of well under
    a millisecond); on SQLite from a read-only connection of the file (a local read of microseconds).
    Every audited write through geogrid raises it, so a new version means that something changed.
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._sqlite_path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        self._conninfo = libpq_conninfo(url)
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: tuple[int, psycopg.AsyncConnection, asyncio.Lock] | None = None
        self._guard = threading.Lock()
        self._waves: tuple[asyncio.AbstractEventLoop, _Wave] | None = None  # per event loop, as the connection

    async def read(self) -> int:
        """The data version (0 before the first audited change)."""
        if self._sqlite_path is not None:
            return self._read_sqlite()
        return await self._read_postgres()

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
        """The version read by a query that starts after this call: concurrent callers share one query.

        While a query runs, the callers that arrive join the next one, started as soon as it ends, so each
        caller still sees every write committed before it called (a sign-out, a disabled account) and the
        connection runs one query per wave of requests instead of one per request, queued."""
        loop = asyncio.get_running_loop()
        waves = self._waves
        if waves is None or waves[0] is not loop:
            waves = self._waves = (loop, _Wave())
        wave = waves[1]
        if wave.next is None:
            wave.next = loop.create_future()
        shared = wave.next
        if wave.runner is None or wave.runner.done():
            wave.runner = loop.create_task(self._run_waves(wave))
        return await asyncio.shield(shared)  # a cancelled caller does not cancel the others' read

    async def _run_waves(self, wave: _Wave) -> None:
        """Answer every wave of callers with one query each, until none is waiting."""
        while wave.next is not None:
            shared, wave.next = wave.next, None
            try:
                value = await self._query_postgres()
            except asyncio.CancelledError:  # the loop is ending
                shared.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - handed to every caller of this wave
                if not shared.done():
                    shared.set_exception(exc)
            else:
                if not shared.done():
                    shared.set_result(value)

    async def _query_postgres(self) -> int:
        """One query; when the connection was lost (a restart, say), one more on a new connection."""
        try:
            return await self._query_once()
        except psycopg.OperationalError:
            self.close()
            try:
                return await self._query_once()
            except psycopg.OperationalError as exc:
                raise OperationalError(QUERY, None, exc) from exc

    async def _query_once(self) -> int:
        connection, lock = await self._postgres_connection()
        async with lock:
            return await _prepared_version(connection.pgconn)

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


PREPARED = b"geogrid_data_version"  # the query prepared once per connection, by this name


async def _prepared_version(pgconn: pq.abc.PGconn) -> int:
    """The version by the prepared query, over libpq directly (the connection's own cursor machinery cost three
    times as much CPU per read, on the event loop of every signed-in request)."""
    result = await _result(pgconn, lambda: pgconn.send_query_prepared(PREPARED, None))
    if result.status == pq.ExecStatus.FATAL_ERROR and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
        _check(await _result(pgconn, lambda: pgconn.send_prepare(PREPARED, QUERY.encode())))  # not prepared yet
        result = await _result(pgconn, lambda: pgconn.send_query_prepared(PREPARED, None))
    _check(result)
    value = result.get_value(0, 0) if result.ntuples else None
    return int(value or 0)


async def _result(pgconn: pq.abc.PGconn, send: Callable[[], None]) -> pq.abc.PGresult:
    """Send a command and wait on the event loop for its (last) result; OperationalError when the link fails."""
    loop = asyncio.get_running_loop()
    send()
    while pgconn.flush():
        await _ready(loop, pgconn.socket, write=True)
    pgconn.consume_input()
    while pgconn.is_busy():
        await _ready(loop, pgconn.socket, write=False)
        pgconn.consume_input()
    last = None
    while (result := pgconn.get_result()) is not None:
        last = result
    if last is None:
        raise psycopg.OperationalError("the server answered nothing")
    return last


def _check(result: pq.abc.PGresult) -> None:
    if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        message = (result.error_message or b"").decode("utf-8", "replace").strip()
        raise psycopg.OperationalError(message or f"data version query failed: {result.status.name}")


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, write: bool) -> None:
    """Wait until fd is readable (or writable)."""
    ready = loop.create_future()
    add, remove = (loop.add_writer, loop.remove_writer) if write else (loop.add_reader, loop.remove_reader)
    add(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        remove(fd)
