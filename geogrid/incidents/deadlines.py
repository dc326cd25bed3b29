"""Deadlines and overdue: when a case is late, in Python, with its SQL and numpy twins beside it.

A case is overdue once it passed a deadline: it was late at some step (``was_overdue``, kept as the case
moves), or it is open now past its current deadline. At the deadline itself a case is still on time; a
case with no deadline is never late by it; a closed case is late only if it was late at some step.
Overdue cases split in two: open and overdue (still to be done, past a deadline) and closed late (done, but
late at some step); the two add up to overdue.
tests/test_deadlines.py and tests/store/test_overdue.py check that the three twins agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, or_

CLOSED = "closed"  # the one state in which a case no longer runs late
DUE_SOON = timedelta(hours=1)  # a desk highlights an open case whose deadline falls within this


def passed(deadline_at: datetime | None, moment: datetime) -> bool:
    """True when moment is after the deadline (at the deadline itself: not yet)."""
    return deadline_at is not None and moment > deadline_at


def late_now(status: str, deadline_at: datetime | None, now: datetime) -> bool:
    """An open case past its current deadline (what makes a moving case's was_overdue true)."""
    return status != CLOSED and passed(deadline_at, now)


def due_soon(status: str, deadline_at: datetime | None, now: datetime, within: timedelta = DUE_SOON) -> bool:
    """An open case not yet late whose deadline comes within the next hour (a desk highlights it)."""
    return status != CLOSED and deadline_at is not None and now <= deadline_at <= now + within


def late_now_clause(status: ColumnElement[str], deadline_at: ColumnElement[datetime],
                    now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """late_now as SQL (never NULL): an open case past its current deadline."""
    return and_(status != CLOSED, deadline_at.is_not(None), deadline_at < now)


def is_overdue(was_overdue: bool, status: str, deadline_at: datetime | None, now: datetime) -> bool:
    """A case that passed a deadline: late at some step, or open past its current deadline."""
    return bool(was_overdue) or late_now(status, deadline_at, now)


def open_overdue(was_overdue: bool, status: str, deadline_at: datetime | None, now: datetime) -> bool:
    """An overdue case that is still open."""
    return status != CLOSED and is_overdue(was_overdue, status, deadline_at, now)


def closed_late(was_overdue: bool, status: str) -> bool:
    """A closed case that was late at some step."""
    return status == CLOSED and bool(was_overdue)


def overdue_clause(
    was_overdue: ColumnElement[bool], status: ColumnElement[str], deadline_at: ColumnElement[datetime], now: datetime
) -> ColumnElement[bool]:
    """is_overdue as SQL over the case's columns (never NULL, so NOT of it is the on-time cases)."""
    open_and_late = and_(status != CLOSED, deadline_at.is_not(None), deadline_at < now)
    return or_(was_overdue.is_(True), open_and_late)


def overdue_array(was_overdue: np.ndarray, status: Any, deadline_seconds: np.ndarray, now: datetime) -> np.ndarray:
    """is_overdue per case over columns (status an array or a pandas Series, best categorical: compared by its
    codes; deadlines as seconds since 1970, NaN for none)."""
    open_cases = ~np.asarray(status == CLOSED, dtype=bool)
    with np.errstate(invalid="ignore"):
        late = np.asarray(deadline_seconds, dtype=float) < now.timestamp()
    return np.asarray(was_overdue, dtype=bool) | (open_cases & late)


def overdue_split_arrays(
    was_overdue: np.ndarray, status: Any, deadline_seconds: np.ndarray, now: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """open_overdue and closed_late per case over columns (as overdue_array takes them; their union is it)."""
    late = overdue_array(was_overdue, status, deadline_seconds, now)
    closed = np.asarray(status == CLOSED, dtype=bool)
    return late & ~closed, late & closed
