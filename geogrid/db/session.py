"""ORM sessions: a factory per engine and a commit-or-rollback scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from geogrid.db.engine import get_engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to engine (objects stay readable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@lru_cache
def _default_factory(url: str | None) -> sessionmaker[Session]:
    return make_sessionmaker(get_engine(url))


@contextmanager
def session_scope(
    bind: Engine | sessionmaker[Session] | str | None = None,
) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises.

    bind is an engine, a session factory, a database URL, or None for the
    settings' database.
    """
    if isinstance(bind, sessionmaker):
        factory = bind
    elif isinstance(bind, Engine):
        factory = make_sessionmaker(bind)
    else:
        factory = _default_factory(bind)
    with factory() as session, session.begin():
        yield session
