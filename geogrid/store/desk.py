"""The case desk's queue: the open cases awaiting the signed-in user's step, most urgent first, with filters and
counts per state, and the changes a live desk hears of.

Which case waits for whom is decided once, by geogrid.incidents.workflow.awaits; ``awaiting`` here is its SQL
twin, built from the same steps (workflow.queue_states and the owners' scopes), and tests/api/test_desk.py checks
that both pick the same cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from geogrid import access
from geogrid.db.models import Community, Incident, Street
from geogrid.incidents import deadlines, workflow
from geogrid.store.incidents import visible_to
from geogrid.store.spatial import Scope

QUEUE_LIMIT = 500  # the most cases one answer lists (the counts cover every case)
QUEUE_PAGE = 100  # the cases a desk lists unless it asks for more
QUEUE_COLUMNS = (  # what a desk lists of each case (the whole case: GET /incidents/{id})
    Incident.id, Incident.category, Incident.description, Incident.address, Incident.status, Incident.level,
    Incident.department, Incident.grid_code, Incident.community_code, Incident.street_code, Incident.lon, Incident.lat,
    Incident.reported_at, Incident.deadline_at, Incident.was_overdue, Incident.updated_at)


def tier_of(session: Session, user: access.User) -> str | None:
    """The tier of user's desk (workflow.desk_tier): for a leader, the level of the area their scope names."""
    level = None
    if user.role == access.LEADER:
        community, street = session.execute(select(
            select(Community.code).where(Community.code == user.scope).exists(),
            select(Street.code).where(Street.code == user.scope).exists())).one()
        level = "community" if community else "street" if street else "district"
    return workflow.desk_tier(user.role, level)


def awaiting(user: access.User, tier: str | None) -> ColumnElement[bool]:
    """The cases awaiting user's step at their desk's tier, as SQL: the twin of workflow.awaits."""
    pairs = sorted(workflow.queue_states(tier))
    if not pairs:
        return false()
    states = or_(*(and_(Incident.status == state, Incident.level == level) for state, level in pairs))
    return and_(Incident.grid_code.is_not(None), Incident.status.in_(sorted({s for s, _ in pairs})), states,
                _owned(user, tier))


def _owned(user: access.User, tier: str | None) -> ColumnElement[bool]:
    """The scope part of each tier's owner (workflow.grid_owner, community_owner, street_owner,
    department_owner) as SQL."""
    if tier == "admin":
        return true()
    if tier == "grid":
        return Incident.grid_code == user.scope
    if tier == "department":
        return Incident.department == user.department if user.department else false()
    # a located case's community and street are stored areas: naming the areas the scope covers lets the queue's
    # index find each one's cases (an OR of prefixes would read every street's cases at the level and filter them)
    if tier == "community":
        covered = select(Community.code).where(Scope(area=user.scope).communities(Community.code))
        return Incident.community_code.in_(covered.scalar_subquery())
    if tier in ("street", "district"):
        covered = select(Street.code).where(Scope(area=user.scope).communities(Street.code))
        return Incident.street_code.in_(covered.scalar_subquery())
    return false()


@dataclass(frozen=True)
class DeskFilters:
    """What a desk's queue is narrowed to (each empty: no narrowing)."""

    category: Sequence[str] = ()
    area: str | None = None  # a grid, community or street code inside the user's scope
    status: Sequence[str] = ()
    level: Sequence[int] = ()
    since: datetime | None = None  # reported at or after
    until: datetime | None = None  # reported before
    overdue: bool | None = None  # past the current deadline now (deadlines.late_now)


@dataclass
class Queue:
    """One answer of the desk: the cases (most urgent first, QUEUE_COLUMNS of each), how many in all, and how many
    in each state."""

    tier: str | None
    cases: list[Any] = field(default_factory=list)
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _narrowed(filters: DeskFilters, now: datetime, *, with_status: bool = True) -> list[ColumnElement[bool]]:
    """The filters as SQL conditions (without the state filter for the counts per state)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.category:
        conditions.append(Incident.category.in_(list(filters.category)))
    if filters.area:
        area = Scope(area=filters.area)
        conditions.append(or_(Incident.grid_code == filters.area, area.communities(Incident.community_code),
                              area.communities(Incident.street_code)))
    if with_status and filters.status:
        conditions.append(Incident.status.in_(list(filters.status)))
    if filters.level:
        conditions.append(Incident.level.in_(list(filters.level)))
    if filters.since:
        conditions.append(Incident.reported_at >= filters.since)
    if filters.until:
        conditions.append(Incident.reported_at < filters.until)
    if filters.overdue is not None:
        late = deadlines.late_now_clause(Incident.status, Incident.deadline_at, now)
        conditions.append(late if filters.overdue else ~late)
    return conditions


def queue(session: Session, user: access.User, filters: DeskFilters, now: datetime, *,
          limit: int = QUEUE_LIMIT) -> Queue:
    """The cases awaiting user's step that match filters: those past their deadline first, then by deadline (none
    last), then by id; the total, and the counts per state (every filter but the state applied)."""
    tier = tier_of(session, user)
    if tier is None:
        return Queue(tier)
    base = [awaiting(user, tier), visible_to(user)]
    counts = dict(session.execute(select(Incident.status, func.count()).where(
        *base, *_narrowed(filters, now, with_status=False)).group_by(Incident.status)).all())
    late = deadlines.late_now_clause(Incident.status, Incident.deadline_at, now)
    order = (case((late, 0), else_=1), case((Incident.deadline_at.is_(None), 1), else_=0), Incident.deadline_at,
             Incident.id)
    rows = session.execute(select(*QUEUE_COLUMNS).where(*base, *_narrowed(filters, now)).order_by(*order).limit(limit))
    cases = list(rows.all())
    total = sum(n for s, n in counts.items() if not filters.status or s in filters.status)
    return Queue(tier, cases, total, {state: counts.get(state, 0) for state in workflow.OPEN_STATES})


def queue_ids(session: Session, user: access.User, tier: str | None) -> set[int]:
    """The ids of every case awaiting user's step (a live desk's starting point)."""
    if tier is None:
        return set()
    return set(session.scalars(select(Incident.id).where(awaiting(user, tier), visible_to(user))).all())


Cursor = tuple[datetime, int]  # a change: (updated_at, id), in the order changes are read


def changed_after(session: Session, user: access.User, cursor: Cursor, limit: int = 1000) -> list[Incident]:
    """The cases user may see changed after cursor, oldest change first (the last one is the next cursor)."""
    at, after_id = cursor
    later = or_(Incident.updated_at > at, and_(Incident.updated_at == at, Incident.id > after_id))
    query = select(Incident).where(later, visible_to(user)).order_by(Incident.updated_at, Incident.id)
    return list(session.scalars(query.limit(limit)).all())


def latest_change(session: Session, now: datetime) -> Cursor:
    """The newest change of any case (where a live desk starts listening); (now, 0) in an empty store."""
    row = session.execute(select(Incident.updated_at, Incident.id).order_by(Incident.updated_at.desc(),
                                                                          Incident.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (now, 0)
