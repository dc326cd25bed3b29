"""The audit trail: one row per change, written in the same transaction as the change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.db.models import AuditLog


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
    return entry


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
