"""The audit trail: one row per change, written in the same transaction as the change.

A transaction that wrote an audit row raises the store's data version as the last thing before it
commits (``geogrid.db.models.DataVersion``): the row lock orders those commits, so a reader that sees
version n sees every change committed with a version up to n.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from geogrid.db.models import AuditLog, DataVersion

CHANGED = "geogrid_audited"  # session.info key: this transaction wrote an audit row
RAISE_VERSION = update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1)


def record(
    session: Session,
    username: str,
    action: str,
    object_type: str,
    object_id: object,
    before: Any = None,
    after: Any = None,
) -> AuditLog:
    """Add an audit row to session; it commits or rolls back with the change it describes."""
    entry = AuditLog(
        username=username,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=jsonable(before),
        after=jsonable(after),
    )
    session.add(entry)
    session.info[CHANGED] = True
    return entry


@event.listens_for(Session, "before_commit")
def _raise_data_version(session: Session) -> None:
    """Raise the data version last, after every other write is flushed, so its row lock is held only
    through the commit (and taken after every other lock: no deadlock through it)."""
    if session.info.pop(CHANGED, False):
        session.flush()
        if session.execute(RAISE_VERSION).rowcount == 0:  # the row was deleted (a table emptied by hand)
            session.execute(insert(DataVersion).values(id=1, version=1))


@event.listens_for(Session, "after_soft_rollback")
def _forget_change(session: Session, previous_transaction: object) -> None:
    """A rolled-back change raises nothing."""
    session.info.pop(CHANGED, None)


def jsonable(value: Any) -> Any:
    """value as plain JSON types (dates and other objects become strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def entries(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: object | None = None,
    limit: int = 100,
) -> Sequence[AuditLog]:
    """The newest audit rows first, optionally for one object type or object."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if object_type is not None:
        query = query.where(AuditLog.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditLog.object_id == str(object_id))
    return session.scalars(query).all()


def has_entries_by(session: Session, username: str) -> bool:
    """True when the audit log holds a change made by username (e.g. the demo loader's)."""
    return session.scalar(select(AuditLog.id).where(AuditLog.username == username).limit(1)) is not None
