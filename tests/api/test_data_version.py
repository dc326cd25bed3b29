"""The data version read on the event loop: it follows every write through geogrid, and survives a lost connection."""

from __future__ import annotations

import asyncio

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
