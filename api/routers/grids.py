"""Grids as GeoJSON: a community's grids in one plan version, and one grid with its buildings."""

from __future__ import annotations

from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import geojson
from api.ids import MAX_ID
from api.deps import (
    PLANNERS,
    DataVersion,
    Principal,
    Reader,
    SessionDep,
    check_area,
    check_plan,
    kept_answer,
    require_role,
)
from api.errors import ForbiddenError, NotFoundError
from api.queries import community_plan
from geogrid import access
from geogrid.db.models import Assignment, Building, Grid, PlanVersion
from geogrid.partition import editing

router = APIRouter(prefix="/api/v1", tags=["Grids"])
GridViewer = Annotated[Principal, Depends(require_role(*access.GRID_VIEWERS))]
PlanParam = Annotated[int | None, Query(ge=1, le=MAX_ID, description="a plan version id (default: the published plan)")]
GRID_FIELDS = ("households", "population", "building_count", "compactness", "within_limits", "flags")


@router.get(
    "/communities/{code}/grids",
    response_class=geojson.GeoJSONResponse,
    responses=geojson.OPENAPI,
    summary="A community's grids as GeoJSON",
)
async def community_grids(
    code: str, user: Reader, version: DataVersion, session: SessionDep, request: Request, plan_id: PlanParam = None
) -> geojson.GeoJSONResponse:
    """The grids of the community's published plan (or of ?plan_id=) as a FeatureCollection.

    Each grid lists its `neighbours`: the grids it shares a boundary with (a corner is not enough),
    which are the grids it may be merged with or pass a building to.

    The answer is kept per data version, so a repeated request is served from memory."""
    check_area(user, code)
    key = ("community_grids", code, plan_id, user.role in PLANNERS, version)  # planners may also see drafts
    body, _ = await kept_answer(request, key, lambda: _community_grids(session, user, code, plan_id))
    return geojson.GeoJSONResponse(body)


def _community_grids(session: Session, user: Principal, code: str, plan_id: int | None) -> bytes:
    """The FeatureCollection of the plan's grids, or 403/404."""
    plan = community_plan(session, code, plan_id)
    check_plan(user, plan)
    query = select(Grid.code, *_grid_columns(), geojson.geometry(Grid.geom)).where(Grid.plan_version_id == plan.id)
    rows = session.execute(query.order_by(Grid.code)).all()
    near = editing.neighbours([row.code for row in rows], shapely.from_geojson([row.geometry for row in rows]))
    features = [_grid_feature(row, plan, neighbours=near[row.code]) for row in rows]
    return geojson.collection(features, community_code=code, plan=_plan_member(plan)).encode()


@router.get(
    "/grids/{grid_code}",
    response_class=geojson.GeoJSONResponse,
    responses=geojson.OPENAPI,
    summary="One grid with its buildings",
)
def one_grid(
    grid_code: str, user: GridViewer, session: SessionDep, plan_id: PlanParam = None
) -> geojson.GeoJSONResponse:
    """The grid as a GeoJSON Feature, with a `buildings` FeatureCollection of the buildings (or units) in it.

    A grid worker sees their own grid in the published plan only."""
    if access.has_one_grid(user) and grid_code != user.scope:
        raise ForbiddenError(f"grid workers see their own grid only ({user.scope}), not {grid_code}")
    plan, row = _find_grid(session, grid_code, plan_id)
    if access.has_one_grid(user):
        if plan.status != "published":
            raise ForbiddenError(f"plan version {plan.id} is {plan.status}: grid workers see the published plan only")
    else:
        check_area(user, plan.community_code, what="grid")
        check_plan(user, plan)
    buildings = geojson.collection(_building_features(session, plan.id, grid_code))
    body = _grid_feature(row, plan, buildings=geojson.Raw(buildings), plan=_plan_member(plan))
    return geojson.GeoJSONResponse(body)


def _grid_columns() -> list[Any]:
    return [getattr(Grid, name) for name in GRID_FIELDS]


def _find_grid(session: Session, grid_code: str, plan_id: int | None) -> tuple[PlanVersion, Any]:
    """(plan version, grid row) of the grid in plan_id, or in the published plan holding it; else 404."""
    query = select(Grid.plan_version_id, Grid.code, *_grid_columns(), geojson.geometry(Grid.geom)).join(
        PlanVersion, PlanVersion.id == Grid.plan_version_id
    )
    if plan_id is None:
        query = query.where(PlanVersion.status == "published")
    else:
        query = query.where(PlanVersion.id == plan_id)
    row = session.execute(query.where(Grid.code == grid_code)).first()
    if row is None:
        where = "any published plan" if plan_id is None else f"plan version {plan_id}"
        raise NotFoundError(f"no grid {grid_code!r} in {where}")
    return session.get_one(PlanVersion, row.plan_version_id), row


def _grid_feature(
    row: Any, version: PlanVersion, neighbours: list[str] | None = None, **members: Any
) -> str:
    properties = {"grid_code": row.code, "community_code": version.community_code, "plan_id": version.id}
    properties.update({name: getattr(row, name) for name in GRID_FIELDS})
    if neighbours is not None:
        properties["neighbours"] = neighbours
    return geojson.feature(row.code, row.geometry, properties, **members)


def _plan_member(plan: PlanVersion) -> dict[str, Any]:
    return {"id": plan.id, "number": plan.number, "status": plan.status}


def _building_features(session: Session, plan_id: int, grid_code: str) -> list[str]:
    """The buildings (or unit ranges of towers) the plan assigns to the grid, with the counts assigned."""
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
            geojson.geometry(Building.geom),
        )
        .join(Building, Building.id == Assignment.building_id)
        .where(Assignment.plan_version_id == plan_id, Assignment.grid_code == grid_code)
        .order_by(Assignment.building_id, Assignment.units)
    )
    features = []
    for row in session.execute(query):
        properties = dict(row._mapping)
        geometry = properties.pop("geometry")
        feature_id = f"{row.building_id}/{row.units}" if row.units else row.building_id
        features.append(geojson.feature(feature_id, geometry, properties))
    return features
