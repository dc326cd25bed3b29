"""The SQL twins of the access rules agree with them on SpatiaLite and PostGIS: area nesting (Scope.communities
against access.covers) and the incidents each role sees (visible_to against access.incident_view)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select

from geogrid import access
from geogrid.db.models import Incident
from geogrid.db.session import session_scope
from geogrid.store.incidents import visible_to
from geogrid.store.spatial import Scope

CODES = ["360702", "360702-001", "360702-0010", "360702-001-003", "360702-001-003-01", "360702-002-001",
         "360702001", "360702001003", "360702002001", "360703-001", "3607"]
SCOPES = ["360702", "360702-001", "360702-001-003", "360702001", "360702001003", "360703"]


@dataclass(frozen=True)
class User:
    username: str
    role: str
    scope: str
    department: str | None = None


def _add_cases(engine: Engine) -> None:
    rows = [{"token": str(uuid.uuid4()), "category": "garbage", "channel": "app", "external_id": code,
             "community_code": code, "grid_code": f"{code}-01", "department": "water" if i % 2 else None}
            for i, code in enumerate(CODES)]
    with session_scope(engine) as session:
        session.execute(insert(Incident), rows)


def test_scope_sql_agrees_with_covers(engine: Engine) -> None:
    _add_cases(engine)
    with session_scope(engine) as session:
        for scope in SCOPES:
            found = set(session.scalars(select(Incident.community_code).where(
                Scope(area=scope).communities(Incident.community_code))))
            assert found == {code for code in CODES if access.covers(scope, code)}, scope


def _sees(user: User, case: dict[str, str | None]) -> bool:
    """access.incident_view applied to one case in Python."""
    view = access.incident_view(user)
    if view.everything:
        return True
    if view.grid is not None:
        return case["grid_code"] == view.grid
    if view.department is not None:
        return case["department"] == view.department
    return view.area is not None and access.covers(view.area, case["community_code"] or "")


def test_visible_to_agrees_with_the_incident_view(engine: Engine) -> None:
    _add_cases(engine)
    users = [User("a", access.ADMIN, "360702"), User("l", access.LEADER, "360702-001"),
             User("p", access.PLANNER, "360702001"), User("w", access.GRID_WORKER, "360702-001-003-01"),
             User("s", access.DEPARTMENT_STAFF, "360702", "water"), User("t", access.DEPARTMENT_STAFF, "360702")]
    with session_scope(engine) as session:
        cases = [dict(r._mapping) for r in session.execute(
            select(Incident.external_id, Incident.grid_code, Incident.community_code, Incident.department))]
        for user in users:
            found = set(session.scalars(select(Incident.external_id).where(visible_to(user))))
            assert found == {c["external_id"] for c in cases if _sees(user, c)}, user
            assert user.role != access.ADMIN or len(found) == len(CODES)
