"""Plans for the command line: every plan version with its grid count, and a plan GeoPackage loaded as drafts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geogrid.db.models import Community, Grid, PlanVersion
from geogrid.errors import InputError
from geogrid.partition.engine import PartitionResult
from geogrid.store.partitioning import SavedPlan, StoreInputs, save
from geogrid.store.plans import published_plan

GRID_NUMBERS = ("households", "population", "building_count")


@dataclass(frozen=True)
class PlanRow:
    """One plan version as listed."""

    id: int
    community_code: str
    community_name: str
    number: int
    status: str
    grids: int
    households: int
    created_by: str
    created_at: datetime


def list_plans(session: Session, *, community: str | None = None, status: str | None = None) -> list[PlanRow]:
    """Plan versions (of one community, or of one status, when given) by community and number."""
    grids = (
        select(Grid.plan_version_id, func.count().label("grids"), func.sum(Grid.households).label("households"))
        .group_by(Grid.plan_version_id)
        .subquery()
    )
    query = (
        select(PlanVersion.id, PlanVersion.community_code, Community.name, PlanVersion.number, PlanVersion.status,
               func.coalesce(grids.c.grids, 0), func.coalesce(grids.c.households, 0), PlanVersion.created_by,
               PlanVersion.created_at)
        .join(Community, Community.code == PlanVersion.community_code)
        .outerjoin(grids, grids.c.plan_version_id == PlanVersion.id)
        .order_by(PlanVersion.community_code, PlanVersion.number)
    )
    if community is not None:
        query = query.where(PlanVersion.community_code == community)
    if status is not None:
        query = query.where(PlanVersion.status == status)
    return [PlanRow(*row) for row in session.execute(query)]


def read_plan_file(path: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The grids and assignments layers of a plan GeoPackage made by `geogrid partition`, checked."""
    from geogrid.geo.io import read_layer, read_table
    from geogrid.geo.validate import validate_previous_plan

    name = f"plan {path.name}"
    grids = read_layer(path, name=name, layer="grids")
    assignments = read_table(path, name=name, layer="assignments")
    grids, assignments = validate_previous_plan(grids, assignments, name=name)
    assert grids is not None and assignments is not None
    missing = [c for c in ("households", "population", "building_count", "within_limits") if c not in grids]
    if missing:
        raise InputError(f"the grids layer of {name} has no {', '.join(missing)}: is it a plan made by geogrid partition?")
    return grids, assignments


def import_plan(
    session: Session, grids: gpd.GeoDataFrame, assignments: pd.DataFrame, username: str, *, note: str,
    publish_plans: bool = False,
) -> list[SavedPlan]:
    """One draft plan version (published when asked) per community of the plan; each community must be in the store."""
    codes = sorted(set(grids["community_code"].astype(str)) - {""})
    known = set(session.scalars(select(Community.code).where(Community.code.in_(codes))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InputError(f"the plan's communities {', '.join(unknown)} are not in the store: import them first")
    home = dict(zip(grids["grid_code"].astype(str), grids["community_code"].astype(str), strict=True))
    assignments = assignments.assign(community_code=assignments["grid_code"].map(home))
    parents = {c: plan.id for c in codes if (plan := published_plan(session, c)) is not None}
    inputs = StoreInputs(codes=codes, communities=grids.iloc[:0], buildings=grids.iloc[:0], previous_plan_ids=parents)
    result = PartitionResult(grids=grids, assignments=assignments, report={})
    return save(session, inputs, result, None, username, note=note, publish_plans=publish_plans)
