"""Incident statistics for leaders: per-area counts, closure, overdue, medians and rates, weekly trends, points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Subquery, func, or_, select, true
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from geogrid.db.models import PUBLISHED, Community, District, Grid, PlanVersion, Street, utcnow
from geogrid.incidents.china_time import monday_of_week, week_index, week_start
from geogrid.incidents.deadlines import overdue_split_arrays
from geogrid.incidents.density import per_1000_households
from geogrid.store.incident_columns import columns_of, holder_of
from geogrid.access import covers
from geogrid.store.spatial import Scope

LEVELS = ("district", "street", "community", "grid")
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
    """What the incidents counted are narrowed to: area, time window, categories."""

    area: _Area
    since: datetime | None
    until: datetime | None
    category: Category

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of the incident columns are counted (a known area by one equality on its level's code)."""
        keep = np.ones(len(frame), dtype=bool)
        if self.area.code is not None:
            if self.area.level is not None:
                keep &= (frame[f"{self.area.level}_code"] == self.area.code).to_numpy()
            else:
                inside = [_codes_inside(frame[f"{level}_code"], self.area.code) for level in LEVELS]
                keep &= np.logical_or.reduce(inside)
        if self.since is not None:
            keep &= frame["reported_at"].to_numpy() >= self.since.timestamp()
        if self.until is not None:
            keep &= frame["reported_at"].to_numpy() < self.until.timestamp()
        categories = (self.category,) if isinstance(self.category, str) else tuple(self.category or ())
        if categories:
            keep &= frame["category"].isin(categories).to_numpy()
        return keep


def _codes_inside(column: pd.Series, area: str) -> np.ndarray:
    """Rows whose code nests in area as geogrid.access.covers says (decided once per distinct code)."""
    categories = column.cat.categories
    inside = np.array([covers(area, str(code)) for code in categories], dtype=bool)
    codes = column.cat.codes.to_numpy()
    return np.where(codes >= 0, inside[np.maximum(codes, 0)] if len(inside) else False, False)


# --- areas and their households ----------------------------------------------------------------------


def _published_grids() -> Subquery:
    """Published grids with households and the codes of their community, street and district."""
    return (
        select(Grid.code.label("grid_code"), Grid.households, PlanVersion.community_code, Community.street_code,
               Street.district_code)
        .join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
        .join(Community, Community.code == PlanVersion.community_code)
        .join(Street, Street.code == Community.street_code)
        .where(PlanVersion.status == PUBLISHED)
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


def outlines(session: Session, level: str, codes: list[str]) -> list[tuple[str, Any]]:
    """(code, shape) of the streets or communities called codes, in code order (the leader page's outlines
    come from the hierarchy's own tables: dissolving every published grid per street was far slower)."""
    model = {"street": Street, "community": Community}[level]
    found = session.execute(select(model.code, model.geom).where(model.code.in_(codes)).order_by(model.code))
    return [(code, to_shape(geom)) for code, geom in found if geom is not None]


# --- incident aggregates -----------------------------------------------------------------------------------


def _aggregates(frame: pd.DataFrame, level: str, narrowing: _Narrowing, now: datetime) -> pd.DataFrame:
    """Per area of level (indexed by code): count, closed, overdue (open and overdue, closed late) and median
    hours to close."""
    column = frame[f"{level}_code"]
    codes = column.cat.codes.to_numpy()
    keep = narrowing.mask(frame) & (codes >= 0)
    key = codes[keep]
    closed = (frame["status"] == "closed").to_numpy()[keep]
    still_open, done_late = overdue_split_arrays(frame["was_overdue"].to_numpy(), frame["status"],
                                                 frame["deadline_at"].to_numpy(), now)
    still_open, done_late = still_open[keep], done_late[keep]
    size = len(column.cat.categories)
    hours = frame["hours_to_close"].to_numpy()[keep]
    timed = closed & ~np.isnan(hours)
    medians = pd.Series(hours[timed]).groupby(key[timed]).median()
    table = pd.DataFrame({
        "count": np.bincount(key, minlength=size),
        "closed": np.bincount(key, weights=closed, minlength=size).astype(int),
        "overdue_open": np.bincount(key, weights=still_open, minlength=size).astype(int),
        "closed_late": np.bincount(key, weights=done_late, minlength=size).astype(int),
        "median_hours_to_close": medians.reindex(range(size)).to_numpy(),
    }, index=column.cat.categories.astype(str))
    return table[table["count"] > 0]


def area_stats(
    session: Session,
    level: str,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per area of level inside area (zero-incident areas too), in code order: code, name, count,
    closed, closure_rate, overdue, overdue_open, closed_late, median_hours_to_close, households,
    per_1000_households (overdue = overdue_open + closed_late: geogrid.incidents.deadlines).

    Incidents count where reported in [since, until) and of category (one code or several); households
    are those of the published grids inside area. Areas come from the store, the incident aggregates
    from the in-memory incident columns (geogrid.store.incident_columns).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
    place = _locate(session, area)
    areas = _areas(level, place)
    households = _households(level, place)
    query = (
        select(areas.c.code, areas.c.name, func.coalesce(households.c.households, 0).label("households"))
        .outerjoin(households, households.c.code == areas.c.code)
        .order_by(areas.c.code)
    )
    listed = pd.DataFrame(session.execute(query).all(), columns=["code", "name", "households"])
    found = _aggregates(columns_of(session), level, _Narrowing(place, since, until, category), now or utcnow())
    table = listed.join(found, on="code")
    count = table["count"].fillna(0).astype(int).to_numpy()
    closed = table["closed"].fillna(0).astype(int).to_numpy()
    homes = table["households"].fillna(0).astype(int).to_numpy()
    still_open = table["overdue_open"].fillna(0).astype(int).to_numpy()
    done_late = table["closed_late"].fillna(0).astype(int).to_numpy()
    median = table["median_hours_to_close"].to_numpy(dtype=float)
    return [
        {"code": code, "name": name, "count": int(n), "closed": int(c), "closure_rate": c / n if n else None,
         "overdue": int(o + d), "overdue_open": int(o), "closed_late": int(d),
         "median_hours_to_close": None if np.isnan(m) else float(m), "households": int(h),
         "per_1000_households": per_1000_households(int(n), int(h))}
        for code, name, n, c, o, d, m, h in zip(table["code"], table["name"], count, closed, still_open, done_late,
                                               median, homes, strict=True)
    ]


# --- trends ------------------------------------------------------------------------------------------------


def _counted(
    session: Session, area: str | None, since: datetime | None, until: datetime | None, category: Category
) -> pd.DataFrame:
    """The incident columns of the incidents the filters count."""
    frame = columns_of(session)
    return frame[_Narrowing(_locate(session, area), since, until, category).mask(frame)]


def weekly_trend(
    session: Session,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
) -> list[dict[str, Any]]:
    """Incidents reported per week (Monday to Sunday, China time): week_start (a date), count, closed.

    Weeks with no incident between the first and last week (or since and until) are given as zero.
    """
    counted = _counted(session, area, since, until, category)
    week = week_index(counted["reported_at"].to_numpy())
    closed = (counted["status"] == "closed").to_numpy()
    counts = pd.DataFrame({"week": week, "closed": closed}).groupby("week")["closed"].agg(["size", "sum"])
    found = {monday_of_week(k): (int(n), int(c)) for k, n, c in counts.itertuples()}
    if not found and (since is None or until is None):
        return []
    first = week_start(since) if since else min(found)
    last = week_start(until - timedelta(microseconds=1)) if until else max(found)
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
) -> dict[str, int]:
    """How many incidents each grid holds (grids with none are absent)."""
    counted = _counted(session, area, since, until, category)
    return {str(code): int(n) for code, n in counted["grid_code"].value_counts().items() if n}


def points(
    session: Session,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The lon and lat of every located incident matching the filters."""
    counted = _counted(session, area, since, until, category)
    lon, lat = counted["lon"].to_numpy(), counted["lat"].to_numpy()
    located = ~(np.isnan(lon) | np.isnan(lat))
    return lon[located].copy(), lat[located].copy()


def cells(
    session: Session,
    resolution: int,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: Category = None,
) -> np.ndarray:
    """The H3 cell (uint64) at resolution of every located incident matching the filters."""
    holder = holder_of(session)
    frame = holder.current(session)
    all_cells = holder.cells(session, resolution).to_numpy()
    keep = _Narrowing(_locate(session, area), since, until, category).mask(frame) & (all_cells != 0)
    return all_cells[keep]
