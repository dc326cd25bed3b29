"""The data version read on the event loop: it follows every write through geogrid, and survives a lost connection."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from geogrid.db.models import DataVersion
from geogrid.db.session import session_scope
from geogrid.db.version import VersionReader
from geogrid.store import audit


def data_version(session: Session) -> int:
    """The data version as the store holds it."""
    return int(session.scalar(select(DataVersion.version)) or 0)


def test_the_reader_sees_each_write_of_another_connection(store_url: str, store: Engine) -> None:
    reader = VersionReader(store_url)
    try:
        with session_scope(store) as session:
            before = data_version(session)
        assert asyncio.run(reader.read()) == before
        with session_scope(store) as session:
            audit.record(session, "tester", "touch", "store", 1)
        after = asyncio.run(reader.read())  # a new event loop, as a second test client would start
        assert after > before
        with session_scope(store) as session:
            assert data_version(session) == after
    finally:
        reader.close()


def test_the_reader_reconnects_after_its_connection_is_closed(store_url: str) -> None:
    reader = VersionReader(store_url)

    async def twice() -> tuple[int, int]:
        first = await reader.read()
        reader.close()  # as if the database had dropped the connection
        return first, await reader.read()

    try:
        first, second = asyncio.run(twice())
        assert first == second
    finally:
        reader.close()


@pytest.mark.parametrize("backend", ["postgis"])  # SQLite has no server to end a connection
def test_the_reader_reconnects_after_the_server_ends_its_connection(store_url: str, store: Engine) -> None:
    reader = VersionReader(store_url)
    others = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                  "AND query LIKE '%data_version%'")

    def end_the_readers_connection() -> None:
        with store.connect() as conn:
            pids = conn.scalars(others).all()
            assert pids, "the reader's connection is not to be seen"
            for pid in pids:
                assert conn.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        with store.connect() as conn:  # a new transaction: a new snapshot of pg_stat_activity
            assert not conn.scalars(others).all()

    async def around() -> tuple[int, int]:
        first = await reader.read()
        end_the_readers_connection()
        return first, await reader.read()

    try:
        first, second = asyncio.run(around())
        assert first == second
        with session_scope(store) as session:
            audit.record(session, "tester", "test", "thing", 1)
        assert asyncio.run(reader.read()) == first + 1
    finally:
        reader.close()


@pytest.mark.parametrize("backend", ["postgis"])  # SQLite reads a local file at once: nothing to share
def test_concurrent_reads_share_a_query_yet_each_sees_the_writes_before_it(store_url: str, store: Engine) -> None:
    """The requests that read the version together share one query; a request that comes while a query is under
    way waits for the next one, so it still sees a write committed before it came."""
    reader = VersionReader(store_url)
    query_once, answers = reader._query_once, []

    async def scenario() -> tuple[list[int], int, int]:
        released = asyncio.Event()

        async def counted_and_held() -> int:
            value = await query_once()
            answers.append(value)
            if len(answers) == 2:  # the second query: its answer held until a later caller has come
                await released.wait()
            return value

        reader._query_once = counted_and_held
        together = await asyncio.gather(*(reader.read() for _ in range(40)))
        first = asyncio.ensure_future(reader.read())
        while len(answers) < 2:  # its query has answered, and is held
            await asyncio.sleep(0.01)
        with session_scope(store) as session:  # a write committed while that query is under way
            audit.record(session, "tester", "touch", "store", 1)
        second = asyncio.ensure_future(reader.read())
        await asyncio.sleep(0)
        released.set()
        return together, await first, await second

    try:
        with session_scope(store) as session:
            before = data_version(session)
        together, first, second = asyncio.run(scenario())
        assert together == [before] * 40 and answers[0] == before  # forty callers, one query
        assert first == before and second > before and len(answers) == 3
    finally:
        reader.close()


def test_the_kept_hierarchy_is_built_again_after_a_write(client: TestClient, auth, store: Engine) -> None:
    headers = auth("admin")
    hierarchy = client.get("/api/v1/hierarchy", headers=headers).json()
    community = hierarchy["districts"][0]["children"][0]["children"][0]
    with session_scope(store) as session:
        session.execute(
            text("UPDATE communities SET name = :name WHERE code = :code"),
            {"name": "改名社区", "code": community["code"]},
        )
        audit.record(session, "tester", "rename", "community", community["code"])
    again = client.get("/api/v1/hierarchy", headers=headers).json()
    assert again["districts"][0]["children"][0]["children"][0]["name"] == "改名社区"


def test_the_version_rises_with_each_audited_commit_in_commit_order(store: Engine) -> None:
    with session_scope(store) as session:
        start = data_version(session)
    first, second = Session(store), Session(store)
    try:
        audit.record(first, "tester", "touch", "store", "first")
        first.flush()  # the first transaction holds the smaller audit id ...
        if store.dialect.name == "sqlite":  # one writer at a time: the first must finish before the second
            first.commit()
        audit.record(second, "tester", "touch", "store", "second")
        second.commit()  # ... (on PostgreSQL) the second commits first
        with session_scope(store) as session:
            after_second = data_version(session)
        first.commit()
        with session_scope(store) as session:
            after_both = data_version(session)
    finally:
        first.close()
        second.close()
    assert after_second == start + (2 if store.dialect.name == "sqlite" else 1)
    assert after_both == start + 2  # the newest audit id did not rise here on PostgreSQL: the first commit went unseen


def test_a_rolled_back_change_raises_nothing(store: Engine) -> None:
    with session_scope(store) as session:
        start = data_version(session)
    with Session(store) as session:
        audit.record(session, "tester", "touch", "store", 1)
        session.flush()
        session.rollback()
        session.commit()
    with session_scope(store) as session:
        assert data_version(session) == start
