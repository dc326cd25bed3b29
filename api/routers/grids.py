"""Grids as GeoJSON: a community's grids in one plan version, and one grid with its buildings."""

from __future__ import annotations

from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, Query, Request

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
from api.errors import ForbiddenError
from geogrid import access
from geogrid.db.models import PUBLISHED, PlanVersion
from geogrid.partition import editing
from geogrid.store import grids

router = APIRouter(prefix="/api/v1", tags=["Grids"])
GridViewer = Annotated[Principal, Depends(require_role(*access.GRID_VIEWERS))]
PlanParam = Annotated[int | None, Query(ge=1, le=MAX_ID, description="a plan version id (default: the published plan)")]


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

    Each grid says whether it `breaks_a_rule` (outside a limit or with any flag) and lists its
    `neighbours`: the grids it shares a boundary with (a corner is not enough), which are the grids
    it may be merged with or pass a building to.

    The answer is kept per data version, so a repeated request is served from memory."""
    check_area(user, code)
    key = ("community_grids", code, plan_id, user.role in PLANNERS, version)  # planners may also see drafts
    body, _ = await kept_answer(request, key, lambda: _community_grids(session, user, code, plan_id))
    return geojson.GeoJSONResponse(body)


def _community_grids(session: SessionDep, user: Principal, code: str, plan_id: int | None) -> bytes:
    """The FeatureCollection of the plan's grids, or 403/404."""
    plan = grids.community_plan(session, code, plan_id)
    check_plan(user, plan)
    rows = grids.plan_grid_rows(session, plan.id)
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
    plan, row = grids.find_grid(session, grid_code, plan_id)
    if access.has_one_grid(user):
        if plan.status != PUBLISHED:
            raise ForbiddenError(f"plan version {plan.id} is {plan.status}: grid workers see the published plan only")
    else:
        check_area(user, plan.community_code, what="grid")
        check_plan(user, plan)
    buildings = geojson.collection(_building_feature(b) for b in grids.grid_buildings(session, plan.id, grid_code))
    body = _grid_feature(row, plan, buildings=geojson.Raw(buildings), plan=_plan_member(plan))
    return geojson.GeoJSONResponse(body)


def _grid_feature(
    row: Any, version: PlanVersion, neighbours: list[str] | None = None, **members: Any
) -> str:
    properties = {"grid_code": row.code, "community_code": version.community_code, "plan_id": version.id}
    properties.update({name: getattr(row, name) for name in grids.GRID_FIELDS})
    properties["breaks_a_rule"] = bool(row.breaks_a_rule)
    if neighbours is not None:
        properties["neighbours"] = neighbours
    return geojson.feature(row.code, row.geometry, properties, **members)


def _plan_member(plan: PlanVersion) -> dict[str, Any]:
    return {"id": plan.id, "number": plan.number, "status": plan.status}


def _building_feature(properties: dict[str, Any]) -> str:
    """One building (or a tower's unit range) with the counts assigned."""
    geometry, building, units = properties.pop("geometry"), properties["building_id"], properties["units"]
    return geojson.feature(f"{building}/{units}" if units else building, geometry, properties)
