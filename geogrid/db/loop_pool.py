"""PostgreSQL from the event loop: a psycopg async pool and statements compiled once by SQLAlchemy, run by the driver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

DIALECT = psycopg_dialect()


def libpq_conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (any driver named in it)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def loop_pool(url: str, size: int, timeout: float = 30.0) -> AsyncConnectionPool:
    """A pool of up to size autocommitting connections for code on the event loop; opened by the caller
    (await pool.open()) on the loop that uses it, and closed there. A connection not found within timeout
    seconds (the database down, or every connection busy) raises an OperationalError, as SQLAlchemy's pool."""
    return AsyncConnectionPool(libpq_conninfo(url), min_size=1, max_size=size, open=False, timeout=timeout,
                               kwargs={"autocommit": True}, name="geogrid-loop")


class DriverStatement:
    """A SQLAlchemy statement compiled once for psycopg, for the driver to execute: SQLAlchemy's own SQL and bind
    processing (types, geometry), without a session, a connection wrapper or a worker thread around it."""

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=DIALECT)
        self.sql: str = compiled.string
        self._compiled = compiled
        self._processors = {
            name: process for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(DIALECT).bind_processor(DIALECT)) is not None
        }

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The driver's parameters for values, as SQLAlchemy would bind them (defaults filled, types processed)."""
        params = self._compiled.construct_params(dict(values))
        for name, process in self._processors.items():
            if name in params:
                params[name] = process(params[name])
        return params

    async def first(self, pool: AsyncConnectionPool, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The statement's first row for values (None when it answers none), on a connection of pool."""
        params = self.params(values)
        try:
            async with pool.connection() as connection:
                cursor = connection.cursor(row_factory=tuple_row)
                await cursor.execute(self.sql, params)
                return await cursor.fetchone()
        except psycopg.Error as exc:  # as SQLAlchemy raises it (DataError, IntegrityError, OperationalError, ...)
            raise DBAPIError.instance(self.sql, None, exc, psycopg.Error) from exc
