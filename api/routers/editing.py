"""Manual editing of a draft plan: POST an edit or an undo, guarded by the plan's revision (ETag / If-Match)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import APIRouter, Header, HTTPException, Response
from pydantic import BaseModel, Field
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from api.ids import Id
from api.deps import (
    Planner,
    Principal,
    SessionDep,
    check_area,
    plan_etag,
    revision_from,
)
from geogrid.partition import editing
from geogrid.store import edits
from geogrid.store.plans import get_plan

router = APIRouter(prefix="/api/v1/plans", tags=["editing"])
IfMatch = Annotated[str | None, Header(description='the plan\'s ETag as read, e.g. "12.3"')]


class MoveBuilding(BaseModel):
    """Move a whole building, with the ground around it, to a neighbouring grid; of a tower split by units, only
    the units named (units) or those in one grid (from_grid)."""

    op: Literal["move_building"]
    building_id: str
    to_grid: str
    units: str | None = Field(default=None,
                              description="a tower's unit range, e.g. \"3-4\", as its assignments name it")
    from_grid: str | None = Field(default=None, description="move the building's units that lie in this grid")


class MoveBuildings(BaseModel):
    """Move several whole buildings, each with the ground around it, to one grid in one edit (the planner's
    brush stroke: one audit entry, one undo step). Each grid they leave must border to_grid, or come to border it
    as the others give their ground; buildings already in to_grid stay; a tower split by units is refused."""

    op: Literal["move_buildings"]
    building_ids: list[str] = Field(min_length=1, max_length=editing.MAX_BRUSH_BUILDINGS)
    to_grid: str


class ReplaceBoundary(BaseModel):
    """Make a drawn polygon the grid's shape; neighbours lose what it covers."""

    op: Literal["replace_boundary"]
    grid_code: str
    geometry: dict[str, Any] = Field(description="a GeoJSON Polygon or MultiPolygon, longitude/latitude (WGS 84)")


class Merge(BaseModel):
    """Join the second grid to the first, which keeps its code."""

    op: Literal["merge"]
    grids: tuple[str, str]


class Split(BaseModel):
    """Cut a grid in two along a drawn line; the smaller side gets a new code."""

    op: Literal["split"]
    grid_code: str
    geometry: dict[str, Any] = Field(description="a GeoJSON LineString crossing the grid, longitude/latitude (WGS 84)")


EditBody = Annotated[MoveBuilding | MoveBuildings | ReplaceBoundary | Merge | Split, Field(discriminator="op")]


@router.post("/{plan_id}/edits")
def edit_plan(
    plan_id: Id, body: EditBody, response: Response, session: SessionDep, user: Planner, if_match: IfMatch = None
) -> dict[str, Any]:
    """Apply one edit to a draft plan; answers the touched grids' counts and every rule the plan now breaks.

    Needs If-Match with the plan's ETag (428 without it, 412 when the plan changed since);
    409 for a plan that is not a draft; 422 naming what is wrong with the edit.
    """
    revision = _guard(session, user, plan_id, if_match)
    change = _change(body)
    try:
        outcome = edits.apply(session, plan_id, revision, user.username, change, body.model_dump(mode="json"))
    except edits.Stale as exc:
        raise HTTPException(412, str(exc)) from None
    return _answer(outcome, response, body.op)


@router.post("/{plan_id}/undo")
def undo_edit(plan_id: Id, response: Response, session: SessionDep, user: Planner, if_match: IfMatch = None) -> dict[str, Any]:
    """Undo the plan's newest edit not yet undone (If-Match as for an edit; 409 when there is none)."""
    revision = _guard(session, user, plan_id, if_match)
    try:
        outcome = edits.undo(session, plan_id, revision, user.username)
    except edits.Stale as exc:
        raise HTTPException(412, str(exc)) from None
    return _answer(outcome, response, "undo")


@router.post("/{plan_id}/redo")
def redo_edit(
    plan_id: Id, response: Response, session: SessionDep, user: Planner, if_match: IfMatch = None
) -> dict[str, Any]:
    """Make again the edit the newest undo took back (If-Match as for an edit; 409 when there is none, e.g. after
    a new edit)."""
    revision = _guard(session, user, plan_id, if_match)
    try:
        outcome = edits.redo(session, plan_id, revision, user.username)
    except edits.Stale as exc:
        raise HTTPException(412, str(exc)) from None
    return _answer(outcome, response, "redo")


# --- checks ------------------------------------------------------------------------------------


def _guard(session: SessionDep, user: Principal, plan_id: int, if_match: str | None) -> int:
    """404, 403 (scope), 428, 412 in that order; the revision the caller edits from."""
    plan = get_plan(session, plan_id)
    check_area(user, plan.community_code)
    if if_match is None or not if_match.strip():
        raise HTTPException(428, f"an edit needs the header If-Match: {plan_etag(plan)}, the plan's ETag as read")
    revision = revision_from(if_match, plan)
    if revision is None:
        raise HTTPException(412, f"If-Match {if_match} is not an ETag of plan version {plan_id}: reload the plan")
    return revision


# --- the edit ----------------------------------------------------------------------------------


def _change(body: MoveBuilding | MoveBuildings | ReplaceBoundary | Merge | Split):
    """The pure edit the body asks for, with its geometry parsed (422 naming what is wrong)."""
    if isinstance(body, MoveBuilding):
        return lambda plan: editing.move_building(plan, body.building_id, body.to_grid, units=body.units,
                                                  from_grid=body.from_grid)
    if isinstance(body, MoveBuildings):
        return lambda plan: editing.move_buildings(plan, body.building_ids, body.to_grid)
    if isinstance(body, Merge):
        return lambda plan: editing.merge(plan, *body.grids)
    geom = geojson_geometry(body.geometry)
    if isinstance(body, ReplaceBoundary):
        return lambda plan: editing.replace_boundary(plan, body.grid_code, geom)
    return lambda plan: editing.split(plan, body.grid_code, geom)


def geojson_geometry(value: dict[str, Any]) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object, or 422 naming the problem."""
    try:
        geom = shape(value)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types for malformed input
        raise HTTPException(422, f"malformed GeoJSON geometry: {str(exc).strip() or type(exc).__name__}") from None
    coords = shapely.get_coordinates(geom)
    if geom.is_empty or not np.isfinite(coords).all():
        raise HTTPException(422, "malformed GeoJSON geometry: it is empty or has coordinates that are not numbers")
    if np.abs(coords[:, 0]).max() > 180 or np.abs(coords[:, 1]).max() > 90:
        raise HTTPException(422, "GeoJSON coordinates must be longitude, latitude in degrees (WGS 84)")
    return geom


def _deleted(code: str, op: str) -> str:
    """The notice naming a grid the edit (or undo) deleted."""
    why = "undoing the edit removed it" if op == "undo" else "the edit left it no area"
    return f"grid {code} is deleted: {why}"


def _answer(outcome: edits.Outcome, response: Response, op: str) -> dict[str, Any]:
    response.headers["ETag"] = plan_etag(outcome.version)
    answer = {
        "plan_id": outcome.version.id,
        "revision": outcome.version.revision,
        "op": op,
        "grids": outcome.grids(),
        "removed": list(outcome.removed),
        "notices": [_deleted(code, op) for code in outcome.removed],
        "problems": editing.check(outcome.plan),
        "audit_id": outcome.audit_id,
    }
    if outcome.undone is not None:
        answer["undone"] = outcome.undone
    return answer
