"""Incident statistics for leaders: per-area counts, closure, overdue, medians and rates, weekly trends, points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Float, Select, Subquery, case, cast, func, literal, or_, select, true
from sqlalchemy.orm import Session

from geogrid.db.models import Community, District, Grid, Incident, PlanVersion, Street, utcnow
from geogrid.store.incidents import Filters, filtered, overdue_now
from geogrid.store.spatial import Scope

LEVELS = ("district", "street", "community", "grid")
CHINA_OFFSET = timedelta(hours=8)  # Asia/Shanghai: UTC+8 all year (no daylight saving since 1991)
MONDAY_ORIGIN = datetime(2000, 1, 3, tzinfo=UTC) - CHINA_OFFSET  # Monday 3 January 2000, 00:00 in China
INCIDENT_KEY = {
    "district": Incident.district_code,
    "street": Incident.street_code,
    "community": Incident.community_code,
    "grid": Incident.grid_code,
}
Category = str | Sequence[str] | None


@dataclass(frozen=True)
class _Area:
    """An area code and where it sits: its level and the codes of the areas holding it (level None: not known)."""

    code: str | None
    level: str | None = None
    enclosing: tuple[str, ...] = ()

    def holds(self, codes: dict[str, ColumnElement[str]]) -> ColumnElement[bool]:
        """Rows (with their own and their enclosing areas' codes, by level) inside the area, or holding it."""
        if self.code is None:
            return true()
        if self.level is None:  # a code the hierarchy does not know: nest by code prefix
            scope = Scope(area=self.code)
            return or_(*(scope.communities(code) for code in codes.values()))
        if self.level in codes:
            return codes[self.level] == self.code
        own = codes[next(level for level in reversed(LEVELS) if level in codes)]
        return own.in_(self.enclosing)


def _locate(session: Session, code: str | None) -> _Area:
    """Where code sits in the hierarchy (a district, street, community or published grid)."""
    if code is None:
        return _Area(None)
    grids = _published_grids()
    queries = {
        "district": select(District.code).where(District.code == code),
        "street": select(Street.district_code).where(Street.code == code),
        "community": select(Community.street_code, Street.district_code).join(Street).where(Community.code == code),
        "grid": select(grids.c.community_code, grids.c.street_code, grids.c.district_code)
        .where(grids.c.grid_code == code),
    }
    for level, query in queries.items():
        row = session.execute(query.limit(1)).first()
        if row is not None:
            return _Area(code, level, () if level == "district" else tuple(row))
    return _Area(code)


@dataclass(frozen=True)
class _Narrowing:
    """What the incidents counted are narrowed to: area, time window, categories, a caller's condition."""

    area: _Area
    since: datetime | None
    until: datetime | None
    category: Category
    where: ColumnElement[bool] | None

    def apply(self, query: Select) -> Select:
        """query over incidents narrowed to these incidents (a known area by one equality on its level's code)."""
        categories = (self.category,) if isinstance(self.category, str) else tuple(self.category or ())
        prefix = self.area.code if self.area.level is None else None
        query = filtered(query, Filters(area=prefix, category=categories, since=self.since, until=self.until))
        if self.area.level is not None:
            query = query.where(INCIDENT_KEY[self.area.level] == self.area.code)
        return query if self.where is None else query.where(self.where)


# --- areas and their households ----------------------------------------------------------------------


def _published_grids() -> Subquery:
    """Published grids with households and the codes of their community, street and district."""
    return (
        select(Grid.code.label("grid_code"), Grid.households, PlanVersion.community_code, Community.street_code,
               Street.district_code)
        .join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
        .join(Community, Community.code == PlanVersion.community_code)
        .join(Street, Street.code == Community.street_code)
        .where(PlanVersion.status == "published")
        .subquery("published")
    )


def _grid_codes(grids: Subquery) -> dict[str, ColumnElement[str]]:
    """A published grid's own code and its enclosing areas' codes, by level."""
    return {level: grids.c[f"{level}_code"] for level in reversed(LEVELS)}


def _households(level: str, area: _Area) -> Subquery:
    """Households of the published grids inside area, summed per area of level: code, households."""
    grids = _published_grids()
    key = grids.c[f"{level}_code"]
    query = select(key.label("code"), func.sum(grids.c.households).label("households"))
    return query.where(area.holds(_grid_codes(grids))).group_by(key).subquery("households")


def _areas(level: str, area: _Area) -> Subquery:
    """Every area of level inside area (or holding it): code, name."""
    if level == "grid":
        grids = _published_grids()
        query = select(grids.c.grid_code.label("code"), grids.c.grid_code.label("name"))
        return query.where(area.holds(_grid_codes(grids))).subquery("areas")
    model = {"district": District, "street": Street, "community": Community}[level]
    query = select(model.code.label("code"), model.name.label("name"))
    codes: dict[str, ColumnElement[str]] = {level: model.code}
    if level == "community":
        query = query.join(Street, Street.code == Community.street_code)
        codes |= {"street": Community.street_code, "district": Street.district_code}
    elif level == "street":
        codes["district"] = Street.district_code
    return query.where(area.holds(codes)).subquery("areas")


# --- incident aggregates -----------------------------------------------------------------------------------


def _counts(level: str, narrowing: _Narrowing, now: datetime) -> Subquery:
    """Per area of level: how many incidents, how many closed, how many overdue."""
    key = INCIDENT_KEY[level]
    query = select(
        key.label("code"),
        func.count().label("count"),
        func.sum(case((Incident.status == "closed", 1), else_=0)).label("closed"),
        func.sum(case((overdue_now(now), 1), else_=0)).label("overdue"),
    ).where(key.is_not(None))
    return narrowing.apply(query).group_by(key).subquery("counts")


def _closed_hours(level: str, narrowing: _Narrowing) -> Select:
    """The closed incidents' hours to close, with the code of their area of level."""
    key = INCIDENT_KEY[level]
    closed = (key.is_not(None), Incident.status == "closed", Incident.hours_to_close.is_not(None))
    return narrowing.apply(select(key.label("code")).where(*closed).group_by(key))


def _medians(session: Session, level: str, narrowing: _Narrowing) -> Subquery:
    """Per area of level: the median hours to close of its closed incidents.

    PostgreSQL has a median aggregate (percentile_cont, about three times faster here than ranking).
    SQLite has none: rank each area's closing times with ROW_NUMBER() and average the middle row
    (odd count) or the two middle rows (even count).
    """
    if session.get_bind().dialect.name == "postgresql":
        median = func.percentile_cont(0.5).within_group(Incident.hours_to_close)
        return _closed_hours(level, narrowing).add_columns(median.label("median_hours_to_close")).subquery("medians")
    key = INCIDENT_KEY[level]
    ranked = (
        _closed_hours(level, narrowing)
        .group_by(None)
        .add_columns(
            Incident.hours_to_close.label("hours"),
            func.row_number().over(partition_by=key, order_by=Incident.hours_to_close).label("position"),
            func.count().over(partition_by=key).label("closed"),
        )
        .subquery("ranked")
    )
    middle = ranked.c.position.between((ranked.c.closed + 1) // 2, (ranked.c.closed + 2) // 2)
    query = select(ranked.c.code, func.avg(ranked.c.hours).label("median_hours_to_close"))
    return query.where(middle).group_by(ranked.c.code).subquery("medians")


def _ratio(numerator: Any, denominator: Any, scale: float = 1.0) -> ColumnElement[float]:
    """numerator * scale / denominator as a float, NULL when the denominator is 0 or NULL."""
    return cast(numerator, Float) * scale / func.nullif(denominator, 0)


def area_stats(
    session: Session,
    level: str,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
    now: datetime | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """One row per area of level inside area (zero-incident areas too), in code order: code, name, count,
    closed, closure_rate, overdue, median_hours_to_close, households, per_1000_households.

    Incidents count where reported in [since, until), of category (one code or several), and matching
    where (e.g. ``visible_to(user)``); households are those of the published grids inside area.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
    place = _locate(session, area)
    narrowing = _Narrowing(place, since, until, category, where)
    areas = _areas(level, place)
    households = _households(level, place)
    counts = _counts(level, narrowing, now or utcnow())
    medians = _medians(session, level, narrowing)
    count = func.coalesce(counts.c.count, 0)
    query = (
        select(
            areas.c.code,
            areas.c.name,
            count.label("count"),
            func.coalesce(counts.c.closed, 0).label("closed"),
            _ratio(counts.c.closed, counts.c.count).label("closure_rate"),
            func.coalesce(counts.c.overdue, 0).label("overdue"),
            medians.c.median_hours_to_close,
            func.coalesce(households.c.households, 0).label("households"),
            _ratio(count, households.c.households, 1000.0).label("per_1000_households"),
        )
        .outerjoin(counts, counts.c.code == areas.c.code)
        .outerjoin(medians, medians.c.code == areas.c.code)
        .outerjoin(households, households.c.code == areas.c.code)
        .order_by(areas.c.code)
    )
    return [dict(row._mapping) for row in session.execute(query)]


# --- trends ------------------------------------------------------------------------------------------------


def _china_week(session: Session) -> ColumnElement[Any]:
    """The start of the week (Monday 00:00 China time) an incident was reported in, per dialect.

    PostgreSQL bins the UTC instant into 7-day bins from a Monday midnight in China (no time zone
    conversion per row: twice as fast as date_trunc at time zone); SQLite shifts the text timestamp
    by 8 hours, goes to the next Sunday and back 6 days.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.date_bin(literal(timedelta(days=7)), Incident.reported_at, literal(MONDAY_ORIGIN))
    hours = int(CHINA_OFFSET.total_seconds() // 3600)
    return func.date(Incident.reported_at, f"+{hours} hours", "weekday 0", "-6 days")


def _week_date(value: datetime | date | str) -> date:
    """The China-time date of a week start as the database answers it (an instant, a date or text)."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) + CHINA_OFFSET).date()
    return value if isinstance(value, date) else date.fromisoformat(value)


def _monday(moment: datetime) -> date:
    """The Monday, China time, of the week holding moment (naive moments are UTC)."""
    utc = moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
    local = utc + CHINA_OFFSET
    return local.date() - timedelta(days=local.weekday())


def weekly_trend(
    session: Session,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
    where: ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """Incidents reported per week (Monday to Sunday, China time): week_start (a date), count, closed.

    Weeks with no incident between the first and last week (or since and until) are given as zero.
    """
    week = _china_week(session).label("week_start")
    query = select(week, func.count().label("count"), func.sum(case((Incident.status == "closed", 1), else_=0)))
    narrowing = _Narrowing(_locate(session, area), since, until, category, where)
    rows = session.execute(narrowing.apply(query).group_by(week)).all()
    found = {_week_date(start): (int(count), int(closed)) for start, count, closed in rows}
    if not found and (since is None or until is None):
        return []
    first = _monday(since) if since else min(found)
    last = _monday(until - timedelta(microseconds=1)) if until else max(found)
    weeks = [first + timedelta(weeks=k) for k in range((last - first).days // 7 + 1)]
    return [{"week_start": w, "count": found.get(w, (0, 0))[0], "closed": found.get(w, (0, 0))[1]} for w in weeks]


# --- what density maps read -------------------------------------------------------------------------------


def grid_counts(
    session: Session,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
    where: ColumnElement[bool] | None = None,
) -> dict[str, int]:
    """How many incidents each grid holds (grids with none are absent)."""
    query = select(Incident.grid_code, func.count()).where(Incident.grid_code.is_not(None))
    narrowing = _Narrowing(_locate(session, area), since, until, category, where)
    rows = session.execute(narrowing.apply(query).group_by(Incident.grid_code))
    return {code: int(count) for code, count in rows}


def points(
    session: Session,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
    where: ColumnElement[bool] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The lon and lat of every located incident matching the filters, read without building row objects.

    PostgreSQL sends each column as one binary float8 array (array_send of array_agg), parsed by numpy;
    SQLite rows come straight from the DB-API cursor.
    """
    located = (Incident.lon.is_not(None), Incident.lat.is_not(None))
    narrowing = _Narrowing(_locate(session, area), since, until, category, where)
    if session.get_bind().dialect.name == "postgresql":
        arrays = [func.array_send(func.array_agg(column)) for column in (Incident.lon, Incident.lat)]
        lon, lat = session.execute(narrowing.apply(select(*arrays).where(*located))).one()
        return _float8_array(lon), _float8_array(lat)
    result = session.connection().execute(narrowing.apply(select(Incident.lon, Incident.lat).where(*located)))
    rows = result.cursor.fetchall()  # plain tuples of two floats: no SQLAlchemy row objects
    result.close()
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=2 * len(rows))
    return flat[0::2].copy(), flat[1::2].copy()


def _float8_array(data: bytes | None) -> np.ndarray:
    """A one-dimensional PostgreSQL float8[] in binary form (no NULLs) as a numpy array; None is empty.

    Layout: ndim, has-nulls flag, element type, then length and lower bound, then for each element
    its byte length (always 8) and the big-endian value.
    """
    if data is None or len(data) <= 12:
        return np.empty(0)
    items = np.frombuffer(data, dtype=np.dtype([("size", ">i4"), ("value", ">f8")]), offset=20)
    return items["value"].astype(np.float64)
