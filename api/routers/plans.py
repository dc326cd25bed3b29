"""Plan versions: list, view, compare, publish and export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import BaseModel, Field

from api.ids import MAX_ID, Id
from api.deps import (
    PLANNERS,
    Planner,
    Reader,
    SessionDep,
    check_area,
    check_plan,
    plan_etag,
    revision_from,
)
from api.errors import PreconditionFailedError
from api.schemas import Comparison, PlanDetail, PlanSummary
from geogrid.db.models import PUBLISHED, PlanVersion
from geogrid.errors import InputError
from geogrid.store import edits, exports
from geogrid.store.grids import check_community, plan_limits, plan_totals
from geogrid.store.plans import compare, get_plan, list_versions
from geogrid.store.plans import copy_to_draft as copy_plan_to_draft

router = APIRouter(prefix="/api/v1", tags=["Plans"])
ExportFormat = Literal["gpkg", "geojson", "shp", "kml"]


@router.get("/communities/{code}/plans", response_model=list[PlanSummary], summary="A community's plan versions")
def community_plans(code: str, user: Reader, session: SessionDep) -> list[PlanSummary]:
    """Every plan version of the community, newest first (leaders see published ones only)."""
    check_area(user, code)
    check_community(session, code)
    versions = list_versions(session, code)
    if user.role not in PLANNERS:
        versions = [v for v in versions if v.status == PUBLISHED]
    return [PlanSummary.model_validate(v) for v in versions]


@router.get("/plans/compare", response_model=Comparison, summary="Compare two plan versions")
def compare_plans(
    user: Reader,
    session: SessionDep,
    a: Annotated[int, Query(ge=1, le=MAX_ID, description="the earlier plan version id")],
    b: Annotated[int, Query(ge=1, le=MAX_ID, description="the later plan version id")],
) -> Comparison:
    """Which buildings (or towers' unit ranges) changed grid from plan a to plan b, and how many
    households and residents moved."""
    plan_a, plan_b = get_plan(session, a), get_plan(session, b)
    check_plan(user, plan_a)
    check_plan(user, plan_b)
    if plan_a.community_code != plan_b.community_code:
        raise InputError(
            f"plan versions {a} and {b} belong to different communities "
            f"({plan_a.community_code}, {plan_b.community_code}): compare versions of one community"
        )
    return Comparison.model_validate(compare(session, a, b).to_dict())


@router.get("/plans/{plan_id}", response_model=PlanDetail, summary="One plan version")
def plan_detail(plan_id: Id, user: Reader, session: SessionDep, response: Response) -> PlanDetail:
    """The plan version with its totals; the ETag header carries its revision (for If-Match)."""
    plan = get_plan(session, plan_id)
    check_plan(user, plan)
    response.headers["ETag"] = plan_etag(plan)
    return _detail(session, plan)


class PublishBody(BaseModel):
    """Why a plan outside a count limit is published (kept with the version)."""

    reason: str | None = Field(default=None, max_length=2000, description="needed when the plan breaks a limit")


class Readiness(BaseModel):
    """What stands between a plan version and publishing it."""

    hard: list[dict[str, Any]] = Field(description="hard rules broken: publishing is refused")
    limits: list[dict[str, Any]] = Field(description="count limits broken: publishing needs a reason")
    needs_reason: bool


@router.get("/plans/{plan_id}/readiness", response_model=Readiness, summary="What stops a plan from being published")
def plan_readiness(plan_id: Id, user: Planner, session: SessionDep) -> Readiness:
    """The hard rules (gaps, overlaps, area outside the community, cut footprints, buildings in no grid, grids in
    several parts) and the count limits the plan version breaks, as publishing would check them."""
    check_area(user, get_plan(session, plan_id).community_code)
    found = edits.readiness(session, plan_id)
    return Readiness(hard=found.hard, limits=found.limits, needs_reason=found.needs_reason)


@router.post(
    "/plans/{plan_id}/publish",
    response_model=PlanDetail,
    summary="Publish a plan version",
    responses={409: {"description": "the plan breaks a hard rule, or a limit without a reason: `problems` lists them"}},
)
def publish_plan(
    plan_id: Id,
    user: Planner,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="the ETag read from GET /plans/{id}")] = None,
    body: Annotated[PublishBody | None, Body()] = None,
) -> PlanDetail:
    """Make the version the community's published plan (the one workers and leaders see), archiving
    the previous one, and place the community's cases again in its grids; who, when and why are recorded,
    with an audit row. Refused (409, listing them) when the plan breaks a hard rule; a plan outside a
    count limit needs a reason."""
    plan = get_plan(session, plan_id)
    check_area(user, plan.community_code)
    expected = None
    if if_match is not None:
        expected = revision_from(if_match, plan)
        if expected != plan.revision:
            raise PreconditionFailedError(
                f"plan version {plan_id} changed since you read it (now {plan_etag(plan)}): reload it",
                code="plan.changed", params={"plan": plan_id},
            )
    reason = body.reason if body is not None else None
    plan = edits.publish_checked(session, plan_id, user.username, reason=reason, expected_revision=expected)
    response.headers["ETag"] = plan_etag(plan)
    return _detail(session, plan)


@router.get(
    "/plans/{plan_id}/export",
    summary="Download a plan version",
    responses={200: {"content": {f.media_type: {} for f in exports.FORMATS.values()}, "description": "the file"}},
)
def export(
    plan_id: Id,
    user: Reader,
    session: SessionDep,
    format: Annotated[ExportFormat, Query(description="gpkg, geojson, shp (zipped) or kml")] = "gpkg",
    layer: Annotated[Literal["grids", "assignments"] | None, Query(description="one layer only")] = None,
) -> Response:
    """The plan as a GeoPackage or zipped Shapefile (grids and assignments), or GeoJSON or KML (one layer)."""
    plan = get_plan(session, plan_id)
    check_plan(user, plan)
    out = exports.export_plan(session, plan_id, format, layer)
    disposition = f'attachment; filename="{out.filename}"'
    return Response(out.content, media_type=out.media_type, headers={"Content-Disposition": disposition})


def _detail(session: SessionDep, plan: PlanVersion) -> PlanDetail:
    totals = plan_totals(session, plan.id)
    return PlanDetail(**PlanSummary.model_validate(plan).model_dump(), **vars(totals),
                      limits=plan_limits(session, plan).to_json())


# --- a draft to edit, copied from a version (added for the planner page) ---------------------------


@router.post("/plans/{plan_id}/drafts", response_model=PlanDetail, status_code=201,
             summary="Start a draft from a plan version")
def copy_to_draft(plan_id: Id, user: Planner, session: SessionDep, response: Response) -> PlanDetail:
    """A new draft version of the community holding the same grids and assignments as plan_id
    (e.g. the published plan), to edit by hand; its parent is plan_id."""
    check_area(user, get_plan(session, plan_id).community_code)
    plan = copy_plan_to_draft(session, plan_id, user.username)
    response.headers["ETag"] = plan_etag(plan)
    return _detail(session, plan)
