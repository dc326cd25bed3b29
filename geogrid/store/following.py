"""Cases follow the plan: when a plan version is published, the community's cases are placed again in its grids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from geogrid.db.models import Assignment, Grid, Incident, IncidentEvent, PlanVersion, utcnow
from geogrid.geo.locate import first_covering

REGRID = "regrid"  # the action of the trace event saying from which grid to which a case moved


@dataclass(frozen=True)
class Move:
    """One case placed in another grid by a newly published plan."""

    incident_id: int
    from_grid: str | None
    to_grid: str | None


def follow_plan(session: Session, plan: PlanVersion, username: str) -> list[Move]:
    """Place every case of the plan's community again in the plan's grids (in the caller's transaction), with
    an event in each moved case's trace; answers the moves.

    A case with a point goes to the grid covering it by the boundary rule, or, for a point just outside every
    grid (e.g. on the community's edge), to the nearest grid; a case without a point goes to the grid of
    the building it was matched to, else stays where it was if that grid still exists, else in no grid.
    """
    codes, geoms = _grids(session, plan.id)
    query = (select(Incident.id, Incident.grid_code, Incident.lon, Incident.lat, Incident.matched_building_id,
                    Incident.status, Incident.level)
             .where(Incident.community_code == plan.community_code).order_by(Incident.id))
    cases = session.execute(query).all()
    if not cases or len(codes) == 0:
        return []
    targets = _targets(session, plan.id, codes, geoms, cases)
    moves = [Move(int(c.id), c.grid_code, to) for c, to in zip(cases, targets, strict=True) if c.grid_code != to]
    _write(session, plan, username, moves, {int(c.id): (c.status, c.level) for c in cases})
    return moves


def _grids(session: Session, plan_id: int) -> tuple[np.ndarray, np.ndarray]:
    rows = session.execute(select(Grid.code, Grid.geom).where(Grid.plan_version_id == plan_id).order_by(Grid.code))
    rows = rows.all()
    return (np.array([r.code for r in rows], dtype=object),
            np.array([to_shape(r.geom) for r in rows], dtype=object))


def _targets(session: Session, plan_id: int, codes: np.ndarray, geoms: np.ndarray, cases: list) -> list[str | None]:
    """The new grid of each case (see follow_plan)."""
    lon = np.array([np.nan if c.lon is None else c.lon for c in cases], dtype=float)
    lat = np.array([np.nan if c.lat is None else c.lat for c in cases], dtype=float)
    has_point = np.isfinite(lon) & np.isfinite(lat)
    rows = np.full(len(cases), -1, dtype=np.intp)
    rows[has_point] = first_covering(geoms, codes, lon[has_point], lat[has_point])
    outside = has_point & (rows < 0)
    if outside.any():
        points = shapely.points(lon[outside], lat[outside])
        _, nearest = shapely.STRtree(geoms).query_nearest(points, all_matches=False)
        rows[outside] = nearest
    by_building = _building_grids(session, plan_id, {c.matched_building_id for c in cases if c.matched_building_id})
    kept = set(codes)
    targets: list[str | None] = []
    for case, row, point in zip(cases, rows, has_point, strict=True):
        if point:
            targets.append(str(codes[row]))
        elif case.matched_building_id in by_building:
            targets.append(by_building[case.matched_building_id])
        else:
            targets.append(case.grid_code if case.grid_code in kept else None)
    return targets


def _building_grids(session: Session, plan_id: int, building_ids: set[str]) -> dict[str, str]:
    """The grid of each of these buildings in the plan (a tower split by units: its first unit range's)."""
    if not building_ids:
        return {}
    query = (select(Assignment.building_id, Assignment.grid_code)
             .where(Assignment.plan_version_id == plan_id, Assignment.building_id.in_(sorted(building_ids)),
                    Assignment.grid_code.is_not(None))
             .order_by(Assignment.building_id, Assignment.units))
    found: dict[str, str] = {}
    for building_id, grid_code in session.execute(query):
        found.setdefault(building_id, grid_code)
    return found


def _write(session: Session, plan: PlanVersion, username: str, moves: list[Move],
           states: dict[int, tuple[str, int]]) -> None:
    """The moved cases' new grid (and updated_at, which statistics read changes by) and their trace events."""
    if not moves:
        return
    now = utcnow()
    session.execute(update(Incident), [{"id": m.incident_id, "grid_code": m.to_grid, "updated_at": now}
                                       for m in moves])
    note = f"plan version {plan.number} of community {plan.community_code} published"
    session.execute(insert(IncidentEvent), [
        {"incident_id": m.incident_id, "at": now, "username": username, "action": REGRID,
         "from_status": states[m.incident_id][0], "to_status": states[m.incident_id][0],
         "from_level": states[m.incident_id][1], "to_level": states[m.incident_id][1], "note": note,
         "data": {"from_grid": m.from_grid, "to_grid": m.to_grid, "plan_version_id": plan.id}}
        for m in moves])
