"""Grids of plan versions as the API serves them: rows with GeoJSON text from the database, totals, and which
grids break a rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func, not_, or_, select
from sqlalchemy.orm import Session

from geogrid.db.models import PUBLISHED, Assignment, Building, Community, Grid, PlanVersion
from geogrid.partition.limits import Limits
from geogrid.partition.rules import Rules
from geogrid.store.plans import NotFound, get_plan, published_plan

GEOJSON_DIGITS = 9  # decimal places of longitude/latitude (0.1 mm): fewer can make thin grids self-intersect
GRID_FIELDS = ("households", "population", "building_count", "compactness", "within_limits", "flags")


def breaks_a_rule() -> ColumnElement[int]:
    """1 for a grid outside a limit or with any flag, else 0 (sum it to count them): the SQL twin of
    ``geogrid.partition.constraints.breaks_a_rule``."""
    return case((or_(not_(Grid.within_limits), func.json_array_length(Grid.flags) > 0), 1), else_=0)


def geojson_text(column: Any, digits: int = GEOJSON_DIGITS) -> ColumnElement[str]:
    """The column's geometry as GeoJSON text (PostGIS and SpatiaLite alike), labelled "geometry"."""
    return func.ST_AsGeoJSON(column, digits).label("geometry")


@dataclass(frozen=True)
class PlanTotals:
    """A plan version's grid count, households, residents and grids breaking a rule."""

    grid_count: int
    households: int
    population: int
    grids_breaking_rules: int


def check_community(session: Session, code: str) -> None:
    """NotFound unless the community exists."""
    if session.scalar(select(Community.code).where(Community.code == code)) is None:
        raise NotFound(f"no community {code!r}")


def community_plan(session: Session, code: str, plan_id: int | None) -> PlanVersion:
    """The community's plan version plan_id, or its published one; NotFound when there is none."""
    check_community(session, code)
    if plan_id is None:
        plan = published_plan(session, code)
        if plan is None:
            raise NotFound(f"community {code} has no published plan yet; give ?plan_id= of a draft")
        return plan
    plan = get_plan(session, plan_id)
    if plan.community_code != code:
        raise NotFound(f"plan version {plan_id} belongs to community {plan.community_code}, not {code}")
    return plan


def _grid_columns() -> list[Any]:
    """The grid's code, figures, whether it breaks a rule (0/1) and GeoJSON geometry."""
    return [Grid.code, *(getattr(Grid, name) for name in GRID_FIELDS), breaks_a_rule().label("breaks_a_rule"),
            geojson_text(Grid.geom)]


def plan_grid_rows(session: Session, plan_id: int) -> Sequence[Row[Any]]:
    """The plan version's grids in code order: code, GRID_FIELDS, breaks_a_rule, geometry (GeoJSON text)."""
    query = select(*_grid_columns()).where(Grid.plan_version_id == plan_id).order_by(Grid.code)
    return session.execute(query).all()


def find_grid(session: Session, grid_code: str, plan_id: int | None) -> tuple[PlanVersion, Row[Any]]:
    """(plan version, grid row as plan_grid_rows gives it) of the grid in plan_id, or in the published plan
    holding it; else NotFound."""
    query = select(Grid.plan_version_id, *_grid_columns()).join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
    which = PlanVersion.status == PUBLISHED if plan_id is None else PlanVersion.id == plan_id
    row = session.execute(query.where(which, Grid.code == grid_code)).first()
    if row is None:
        where = "any published plan" if plan_id is None else f"plan version {plan_id}"
        raise NotFound(f"no grid {grid_code!r} in {where}")
    return session.get_one(PlanVersion, row.plan_version_id), row


def grid_buildings(session: Session, plan_id: int, grid_code: str) -> list[dict[str, Any]]:
    """The buildings (or unit ranges of towers) the plan assigns to the grid, with the counts assigned:
    building_id, units, households, population, compound, address, floors, total_units, geometry (GeoJSON text)."""
    query = (
        select(
            Assignment.building_id,
            Assignment.units,
            Assignment.households,
            Assignment.population,
            Building.compound,
            Building.address,
            Building.floors,
            Building.units.label("total_units"),
            geojson_text(Building.geom),
        )
        .join(Building, Building.id == Assignment.building_id)
        .where(Assignment.plan_version_id == plan_id, Assignment.grid_code == grid_code)
        .order_by(Assignment.building_id, Assignment.units)
    )
    return [dict(row._mapping) for row in session.execute(query)]


def plan_limits(session: Session, plan: PlanVersion) -> Limits:
    """The count windows of the plan version's grids: its rules, for its community's kind."""
    kind = session.scalar(select(Community.kind).where(Community.code == plan.community_code))
    return Limits.of_kind(kind or "urban", Rules.model_validate(plan.rules or {}))


def plan_totals(session: Session, plan_id: int) -> PlanTotals:
    """The plan version's totals over its grids."""
    totals = select(func.count(Grid.id), func.sum(Grid.households), func.sum(Grid.population),
                    func.sum(breaks_a_rule())).where(Grid.plan_version_id == plan_id)
    count, households, population, broken = session.execute(totals).one()
    return PlanTotals(count or 0, households or 0, population or 0, broken or 0)
