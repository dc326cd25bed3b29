"""Overdue without a store: the Python rule and its numpy twin agree on the same cases (the SQL twin is
checked on both backends in tests/store/test_overdue.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from geogrid.incidents import deadlines

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CASES = [  # (status, deadline_at, was_overdue, overdue at NOW)
    ("accepted", NOW + HOUR, False, False),  # before the deadline
    ("reported", NOW, False, False),  # at the deadline: still on time
    ("accepted", NOW + timedelta(microseconds=-1), False, True),  # just after it
    ("closed", NOW - HOUR, False, False),  # closed on time
    ("closed", NOW - HOUR, True, True),  # closed late
    ("reported", None, False, False),  # no deadline
    ("escalated", NOW + HOUR, True, True),  # late at level 1, on time at level 2
]


def test_python_rule() -> None:
    assert [deadlines.is_overdue(w, s, d, NOW) for s, d, w, _ in CASES] == [late for *_, late in CASES]


def test_numpy_twin_agrees() -> None:
    status = np.array([s for s, *_ in CASES], dtype=object)
    seconds = np.array([np.nan if d is None else d.timestamp() for _, d, *_ in CASES])
    was = np.array([w for _, _, w, _ in CASES])
    assert deadlines.overdue_array(was, status, seconds, NOW).tolist() == [late for *_, late in CASES]


def test_late_now_is_what_a_move_records() -> None:
    assert deadlines.late_now("accepted", NOW - HOUR, NOW)
    assert not deadlines.late_now("accepted", NOW, NOW)
    assert not deadlines.late_now("closed", NOW - HOUR, NOW)
    assert not deadlines.late_now("reported", None, NOW)


def test_overdue_splits_into_open_and_closed_late() -> None:
    status = np.array([s for s, *_ in CASES], dtype=object)
    seconds = np.array([np.nan if d is None else d.timestamp() for _, d, *_ in CASES])
    was = np.array([w for _, _, w, _ in CASES])
    still_open = [deadlines.open_overdue(w, s, d, NOW) for s, d, w, _ in CASES]
    done_late = [deadlines.closed_late(w, s) for s, _, w, _ in CASES]
    assert still_open == [False, False, True, False, False, False, True]
    assert done_late == [False, False, False, False, True, False, False]
    assert [a or b for a, b in zip(still_open, done_late, strict=True)] == [late for *_, late in CASES]
    open_array, late_array = deadlines.overdue_split_arrays(was, status, seconds, NOW)
    assert open_array.tolist() == still_open and late_array.tolist() == done_late
