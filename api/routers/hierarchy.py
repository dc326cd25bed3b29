"""The area tree (district → street/town → community) with roll-ups of the published grids."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import DataVersion, Principal, SessionDep, kept_answer, require_role
from api.queries import breaks_a_rule
from api.schemas import Hierarchy, HierarchyNode
from geogrid import access
from geogrid.db.models import Community, District, Grid, PlanVersion, Street

router = APIRouter(prefix="/api/v1", tags=["Hierarchy"])
Viewer = Annotated[Principal, Depends(require_role(*access.HIERARCHY_VIEWERS))]
FIGURES = ("households", "population", "grid_count", "grids_breaking_rules")


@dataclass(frozen=True)
class Areas:
    """The three levels' rows and each community's published figures."""

    districts: list[Any]
    streets: list[Any]
    communities: list[Any]
    figures: dict[str, tuple[int, ...]]


@router.get("/hierarchy", response_model=Hierarchy, summary="The area tree with roll-ups")
async def hierarchy(user: Viewer, version: DataVersion, session: SessionDep, request: Request) -> Response:
    """Districts, streets/towns and communities inside your scope, each with the households,
    residents, grid count and grids breaking a rule of the published plans below it.

    The answer is kept per data version and scope, so a repeated request is served from memory."""
    key = ("hierarchy", access.default_area(user), version)
    body, _ = await kept_answer(request, key, lambda: _tree(session, user).model_dump_json().encode())
    return Response(body, media_type="application/json")


def _tree(session: Session, user: Principal) -> Hierarchy:
    """The tree of the areas inside the user's scope, rolled up."""
    areas = _areas(session)
    by_street: dict[str, list[HierarchyNode]] = defaultdict(list)
    for c in areas.communities:
        if user.covers(c.code):
            by_street[c.street_code].append(_community_node(c, areas.figures.get(c.code)))
    by_district: dict[str, list[HierarchyNode]] = defaultdict(list)
    for s in areas.streets:
        if s.code in by_street or user.covers(s.code):
            by_district[s.district_code].append(_rolled_up(s.code, s.name, "street", s.kind, by_street[s.code]))
    districts = [
        _rolled_up(d.code, d.name, "district", None, by_district[d.code])
        for d in areas.districts
        if d.code in by_district or user.covers(d.code)
    ]
    return Hierarchy(districts=districts)


def _areas(session: Session) -> Areas:
    """The areas and each community's published figures."""
    return Areas(_rows(session, District), _rows(session, Street), _rows(session, Community), _published_figures(session))


def _rows(session: Session, model: type[District | Street | Community]) -> list:
    """The table's rows without geometry, in code order."""
    columns = [c for c in model.__table__.columns if c.name != "geom"]
    return list(session.execute(select(*columns).order_by(model.code)))


def _published_figures(session: Session) -> dict[str, tuple[int, ...]]:
    """Per community: (published plan id, households, population, grids, grids breaking a rule)."""
    query = (
        select(
            PlanVersion.community_code,
            PlanVersion.id,
            func.sum(Grid.households),
            func.sum(Grid.population),
            func.count(Grid.id),
            func.sum(breaks_a_rule()),
        )
        .join(Grid, Grid.plan_version_id == PlanVersion.id)
        .where(PlanVersion.status == "published")
        .group_by(PlanVersion.community_code, PlanVersion.id)
    )
    return {code: (plan_id, *(int(v or 0) for v in rest)) for code, plan_id, *rest in session.execute(query)}


def _community_node(row: Any, figures: tuple[int, ...] | None) -> HierarchyNode:
    node = HierarchyNode(code=row.code, name=row.name, level="community", kind=row.kind)
    if figures is not None:
        node.published_plan_id = figures[0]
        node.households, node.population, node.grid_count, node.grids_breaking_rules = figures[1:]
    return node


def _rolled_up(
    code: str, name: str, level: Literal["district", "street"], kind: str | None, children: list[HierarchyNode]
) -> HierarchyNode:
    node = HierarchyNode(code=code, name=name, level=level, kind=kind, children=children)
    for figure in FIGURES:
        setattr(node, figure, sum(getattr(child, figure) for child in children))
    return node
