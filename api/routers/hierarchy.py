"""The area tree (district → street/town → community) with roll-ups of the published grids."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response

from api.deps import DataVersion, Principal, SessionDep, kept_answer, require_role
from api.schemas import Hierarchy, HierarchyNode
from geogrid import access
from geogrid.store import areas
from geogrid.store.areas import Areas

router = APIRouter(prefix="/api/v1", tags=["Hierarchy"])
Viewer = Annotated[Principal, Depends(require_role(*access.HIERARCHY_VIEWERS))]
FIGURES = ("households", "population", "grid_count", "grids_breaking_rules")


@router.get("/hierarchy", response_model=Hierarchy, summary="The area tree with roll-ups")
async def hierarchy(user: Viewer, version: DataVersion, session: SessionDep, request: Request) -> Response:
    """Districts, streets/towns and communities inside your scope, each with the households,
    residents, grid count and grids breaking a rule of the published plans below it.

    The answer is kept per data version and scope, so a repeated request is served from memory."""
    key = ("hierarchy", access.default_area(user), version)
    body, _ = await kept_answer(request, key, lambda: _tree(session, user).model_dump_json().encode())
    return Response(body, media_type="application/json")


def _tree(session: SessionDep, user: Principal) -> Hierarchy:
    """The tree of the areas inside the user's scope, rolled up."""
    found = _areas(session)
    by_street: dict[str, list[HierarchyNode]] = defaultdict(list)
    for c in found.communities:
        if user.covers(c.code):
            by_street[c.street_code].append(_community_node(c, found.figures.get(c.code)))
    by_district: dict[str, list[HierarchyNode]] = defaultdict(list)
    for s in found.streets:
        if s.code in by_street or user.covers(s.code):
            by_district[s.district_code].append(_rolled_up(s.code, s.name, "street", s.kind, by_street[s.code]))
    districts = [
        _rolled_up(d.code, d.name, "district", None, by_district[d.code])
        for d in found.districts
        if d.code in by_district or user.covers(d.code)
    ]
    return Hierarchy(districts=districts)


def _areas(session: SessionDep) -> Areas:
    """The areas and each community's published figures."""
    return areas.areas(session)


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
