"""The case desk's queue: the open cases awaiting the signed-in user's step, most urgent first, with filters and
counts per state, and the changes a live desk hears of.

Which case waits for whom is decided once, by geogrid.incidents.workflow.awaits; ``awaiting`` here is its SQL
twin, built from the same steps (workflow.queue_states and the owners' scopes), and tests/api/test_desk.py checks
that both pick the same cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (ColumnElement, Select, and_, bindparam, false, func, literal, or_, select, true,
                        union_all)
from sqlalchemy.orm import Session

from geogrid import access
from geogrid.db.models import Community, Incident, Street
from geogrid.incidents import deadlines, workflow
from geogrid.store.incidents import visible_to
from geogrid.store.per_store import PerStore
from geogrid.store.spatial import Scope

QUEUE_LIMIT = 500  # the most cases one answer lists (the counts cover every case)
QUEUE_PAGE = 100  # the cases a desk lists unless it asks for more
QUEUE_OFFSET_LIMIT = 2**31  # offsets at or past a queue's total list nothing (the listing is not run)
QUEUE_COLUMNS = (  # what a desk lists of each case (the whole case: GET /incidents/{id})
    Incident.id, Incident.category, Incident.description, Incident.address, Incident.status, Incident.level,
    Incident.department, Incident.grid_code, Incident.community_code, Incident.street_code, Incident.lon, Incident.lat,
    Incident.reported_at, Incident.deadline_at, Incident.was_overdue, Incident.updated_at)


@dataclass(frozen=True)
class Desk:
    """Whose desk: its tier (workflow.desk_tier) and, for a leader, the stored areas their scope covers at the
    tier's level (community codes for a community's desk, street codes for a street's or district's)."""

    tier: str | None
    areas: tuple[str, ...] = ()


def desk_of(session: Session, user: access.User, version: int | None = None) -> Desk:
    """The desk of user: for a leader, the level of the area their scope names and the areas it covers (one
    query; with the store's data version, kept until it changes, since areas change only by audited writes)."""
    if user.role != access.LEADER:
        return Desk(workflow.desk_tier(user.role, None))
    if version is None:
        return _leader_desk(session, user.scope)
    kept = _DESKS.of(session)
    found = kept.get(user.scope)
    if found is not None and found[0] == version:
        return found[1]
    desk = _leader_desk(session, user.scope)
    if len(kept) >= 4096:
        kept.clear()
    kept[user.scope] = (version, desk)  # a dict's get and set are atomic: threads may only both read the areas
    return desk


_DESKS: PerStore[dict[str, tuple[int, Desk]]] = PerStore(dict)  # per store: a leader's scope -> (version, desk)


def _leader_desk(session: Session, scope_code: str) -> Desk:
    """A leader's desk for the area scope_code names."""
    scope = Scope(area=scope_code)
    rows = session.execute(
        select(literal("community").label("level"), Community.code).where(scope.communities(Community.code))
        .union_all(select(literal("street"), Street.code).where(scope.communities(Street.code)))).all()
    codes = {level: tuple(sorted(code for lv, code in rows if lv == level)) for level in ("community", "street")}
    level = "community" if scope_code in codes["community"] else "street" if scope_code in codes["street"] \
        else "district"
    tier = workflow.desk_tier(access.LEADER, level)
    return Desk(tier, codes["community"] if tier == "community" else codes["street"])


def tier_of(session: Session, user: access.User) -> str | None:
    """The tier of user's desk (workflow.desk_tier): for a leader, the level of the area their scope names."""
    return desk_of(session, user).tier


def awaiting(user: access.User, desk: Desk) -> ColumnElement[bool]:
    """The cases awaiting user's step at their desk's tier, as SQL: the twin of workflow.awaits."""
    pairs = sorted(workflow.queue_states(desk.tier))
    if not pairs:
        return false()
    states = or_(*(and_(Incident.status == state, Incident.level == level) for state, level in pairs))
    return and_(Incident.grid_code.is_not(None), Incident.status.in_(sorted({s for s, _ in pairs})), states,
                _owned(user, desk))


def _owned(user: access.User, desk: Desk) -> ColumnElement[bool]:
    """The scope part of each tier's owner (workflow.grid_owner, community_owner, street_owner,
    department_owner) as SQL."""
    tier = desk.tier
    if tier == "admin":
        return true()
    if tier == "grid":
        return Incident.grid_code == user.scope
    if tier == "department":
        return Incident.department == user.department if user.department else false()
    # a located case's community and street are stored areas: naming those the scope covers (access.covers, whose
    # SQL twin picked them) lets the queue's index find their cases, where prefixes would read every street's
    if tier == "community":
        return Incident.community_code.in_(desk.areas) if desk.areas else false()
    if tier in ("street", "district"):
        return Incident.street_code.in_(desk.areas) if desk.areas else false()
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


def _narrowed(filters: DeskFilters, now: datetime | ColumnElement[datetime], *, with_status: bool = True
              ) -> list[ColumnElement[bool]]:
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


def queue(session: Session, user: access.User, filters: DeskFilters, now: datetime, *, limit: int = QUEUE_PAGE,
          offset: int = 0, version: int | None = None) -> Queue:
    """The cases awaiting user's step that match filters: those past their deadline first, then by deadline (none
    last), then by id, from offset on; the total, and the counts per state (every filter but the state applied).
    version: the store's data version (geogrid.db.version), which keys the desk's areas between requests."""
    desk = desk_of(session, user, version)
    if desk.tier is None:
        return Queue(desk.tier)
    counting, listing = _statements(_Who.of(user), desk, _hashable(filters), limit, min(offset, QUEUE_OFFSET_LIMIT))
    params, connection = {"now": now}, session.connection()  # Core rows: no ORM work on plain columns
    counts = dict(connection.execute(counting, params).all())
    total = sum(n for s, n in counts.items() if not filters.status or s in filters.status)
    cases = list(connection.execute(listing, params).all()) if listing is not None and offset < total else []
    return Queue(desk.tier, cases, total, {state: counts.get(state, 0) for state in workflow.OPEN_STATES})


@dataclass(frozen=True)
class _Who:
    """What the queue's SQL reads of a user (access.User), hashable to key the statements."""

    username: str
    role: str
    scope: str
    department: str | None

    @classmethod
    def of(cls, user: access.User) -> _Who:
        return cls(user.username, user.role, user.scope, user.department)


def _hashable(filters: DeskFilters) -> DeskFilters:
    """filters with tuples for lists (a key of the statements)."""
    return replace(filters, category=tuple(filters.category), status=tuple(filters.status),
                   level=tuple(filters.level))


@lru_cache(maxsize=512)
def _statements(user: _Who, desk: Desk, filters: DeskFilters, limit: int, offset: int) -> tuple[Select, Select | None]:
    """The counts per state, and the page of cases, as statements whose one parameter is `now`. Built once per user,
    desk and filters: building these selects costs more than PostgreSQL spends answering them."""
    now = bindparam("now", type_=Incident.deadline_at.type)
    mine = awaiting(user, desk)  # only cases the user may see (tests/api/test_desk.py): counted from the index alone
    counting = select(Incident.status, func.count()).where(
        mine, *_narrowed(filters, now, with_status=False)).group_by(Incident.status)
    # open cases past their deadline first, then by deadline: for open cases both are the deadline's order
    # (deadlines.late_now: past it now), with none last. Each (state, level) the desk waits on is read in that order
    # from the open-case index, at most offset + limit cases each, and the page of them all is kept.
    pairs = [(s, lv) for s, lv in sorted(workflow.queue_states(desk.tier))
             if (not filters.status or s in filters.status) and (not filters.level or lv in filters.level)]
    if not pairs:
        return counting, None
    order = (Incident.deadline_at.asc().nulls_last(), Incident.id)
    owned = and_(Incident.grid_code.is_not(None), _owned(user, desk))  # awaiting, one (state, level) at a time
    arms = [select(*QUEUE_COLUMNS).where(Incident.status == s, Incident.level == lv, owned, visible_to(user),
                                         *_narrowed(filters, now)).order_by(*order).limit(offset + limit).subquery()
            for s, lv in pairs]
    every = union_all(*(select(arm) for arm in arms)).subquery()
    listing = select(every).order_by(every.c.deadline_at.asc().nulls_last(), every.c.id).offset(offset).limit(limit)
    return counting, listing


def queue_ids(session: Session, user: access.User, desk: Desk) -> set[int]:
    """The ids of every case awaiting user's step at desk (a live desk's starting point)."""
    if desk.tier is None:
        return set()
    return set(session.scalars(select(Incident.id).where(awaiting(user, desk), visible_to(user))).all())


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
