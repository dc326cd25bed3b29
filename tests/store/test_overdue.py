"""Overdue in the store: the SQL twin (filters), the numpy twin (statistics' columns) and the Python rule agree on
SpatiaLite and PostGIS, and moving a case keeps was_overdue as the rule says."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from geogrid.db.models import Incident, utcnow
from geogrid.db.session import session_scope
from geogrid.incidents import deadlines
from geogrid.incidents.taxonomy import load_taxonomy
from geogrid.store import incidents as store
from geogrid.store.incident_columns import columns_of

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CASES = {  # external id -> (status, deadline_at, was_overdue, overdue at NOW)
    "open-before-deadline": ("accepted", NOW + HOUR, False, False),
    "open-at-deadline": ("reported", NOW, False, False),
    "open-after-deadline": ("accepted", NOW + timedelta(seconds=-1), False, True),
    "closed-on-time": ("closed", NOW - 24 * HOUR, False, False),
    "closed-late": ("closed", NOW - 24 * HOUR, True, True),
    "no-deadline": ("reported", None, False, False),
    "late-then-escalated": ("escalated", NOW + 24 * HOUR, True, True),
}


def _row(external_id: str, status: str, deadline_at: datetime | None, was_overdue: bool) -> dict[str, Any]:
    return {"external_id": external_id, "token": str(uuid.uuid4()), "category": "environment_sanitation", "channel": "app",
            "status": status, "reported_at": NOW - 48 * HOUR, "deadline_at": deadline_at, "was_overdue": was_overdue,
            "grid_code": "360702-001-001-01", "community_code": "360702-001-001", "street_code": "360702-001",
            "district_code": "360702", "lon": 115.9, "lat": 28.6}


@pytest.fixture
def cases(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        session.execute(insert(Incident), [_row(k, s, d, w) for k, (s, d, w, _) in CASES.items()])
    return engine


def _ids_by_external(session: Any) -> dict[int, str]:
    return dict(session.execute(select(Incident.id, Incident.external_id)).all())


def test_the_three_twins_agree_with_the_rule(cases: Engine) -> None:
    expected = {k: late for k, (_, _, _, late) in CASES.items()}
    with session_scope(cases) as session:
        names = _ids_by_external(session)
        python = {i.external_id: store.is_overdue(i, NOW) for i in session.scalars(select(Incident))}
        late_sql = {names[i] for i in session.scalars(store.filtered(select(Incident.id), store.Filters(overdue=True), NOW))}
        on_time_sql = {names[i] for i in session.scalars(store.filtered(select(Incident.id), store.Filters(overdue=False), NOW))}
        frame = columns_of(session)
        numpy = deadlines.overdue_array(frame["was_overdue"].to_numpy(), frame["status"],
                                        frame["deadline_at"].to_numpy(), NOW)
        by_numpy = {names[int(i)]: bool(v) for i, v in zip(frame.index, numpy, strict=True)}
        still_open, done_late = deadlines.overdue_split_arrays(frame["was_overdue"].to_numpy(), frame["status"].to_numpy(),
                                                               frame["deadline_at"].to_numpy(), NOW)
        split = {names[int(i)]: (bool(o), bool(d)) for i, o, d in zip(frame.index, still_open, done_late, strict=True)}
        python_split = {i.external_id: (deadlines.open_overdue(i.was_overdue, i.status, i.deadline_at, NOW),
                                        deadlines.closed_late(i.was_overdue, i.status)) for i in session.scalars(select(Incident))}
    assert python == expected
    assert late_sql == {k for k, late in expected.items() if late}
    assert on_time_sql == {k for k, late in expected.items() if not late}  # NOT overdue is never NULL
    assert by_numpy == expected
    assert split == python_split
    assert {k for k, (o, _) in split.items() if o} == {"open-after-deadline", "late-then-escalated"}
    assert {k for k, (_, d) in split.items() if d} == {"closed-late"}


@dataclass(frozen=True)
class Admin:
    username: str = "admin"
    role: str = "admin"
    scope: str = "360702"
    department: str | None = None

    def covers(self, code: str) -> bool:
        return True


def _act_on(engine: Engine, deadline_from_now: timedelta, actions: list[str]) -> Incident:
    """A reported case whose deadline is deadline_from_now away, moved by actions; answers it as stored."""
    now = utcnow()
    with session_scope(engine) as session:
        session.execute(insert(Incident), [_row("moved", "reported", now + deadline_from_now, False)])
    taxonomy = load_taxonomy()
    for action in actions:
        with session_scope(engine) as session:
            case_id = session.scalar(select(Incident.id).where(Incident.external_id == "moved"))
            store.act(session, case_id, Admin(), action, taxonomy)
    with session_scope(engine) as session:
        case = session.scalar(select(Incident).where(Incident.external_id == "moved"))
        session.expunge(case)
        return case


def test_acting_after_the_deadline_keeps_the_case_overdue(engine: Engine) -> None:
    case = _act_on(engine, -HOUR, ["accept", "handle", "close"])
    assert case.status == "closed" and case.was_overdue
    assert store.is_overdue(case, utcnow())  # closed late: still counted overdue


def test_acting_before_the_deadline_keeps_the_case_on_time(engine: Engine) -> None:
    case = _act_on(engine, 24 * HOUR, ["accept", "handle", "close"])
    assert case.status == "closed" and not case.was_overdue
    assert not store.is_overdue(case, utcnow() + 48 * HOUR)  # closed on time: never overdue afterwards
