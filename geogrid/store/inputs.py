"""One community's partition inputs read from the store: outline, buildings, roads, villager groups, published plan."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from geoalchemy2.shape import to_shape
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from geogrid.db.models import SRID, Building, Community, Road, VillagerGroup
from geogrid.errors import InputError
from geogrid.store.plans import plan_assignments, plan_grids, published_plan
from geogrid.store.spatial import near_bbox


@dataclass
class CommunityInputs:
    """Everything geogrid.partition needs for one community, in EPSG:4326."""

    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame | None
    villager_groups: gpd.GeoDataFrame | None
    previous_grids: gpd.GeoDataFrame | None = None
    previous_assignments: pd.DataFrame | None = None
    previous_plan_id: int | None = None


def community_inputs(session: Session, code: str, *, keep_previous: bool = True) -> CommunityInputs:
    """The community's inputs (and its published plan, if keep_previous); InputError if it cannot be partitioned."""
    community = session.get(Community, code)
    if community is None:
        raise InputError(f"unknown community {code!r}")
    shape = to_shape(community.geom)
    outline = gpd.GeoDataFrame(
        {"community_code": [code], "name": [community.name], "kind": [community.kind]}, geometry=[shape], crs=SRID
    )
    buildings = _frame(session, Building, Building.community_code == code)
    if buildings.empty:
        raise InputError(f"community {code} has no buildings in the store: import its buildings first")
    inputs = CommunityInputs(
        communities=outline,
        buildings=buildings.rename(columns={"id": "building_id"}),
        roads=_nonempty(
            _frame(session, Road, near_bbox(session, Road, shape.bounds)).rename(columns={"id": "road_id"})
        ),
        villager_groups=_nonempty(
            _frame(session, VillagerGroup, VillagerGroup.community_code == code).rename(columns={"id": "group_id"})
        ),
    )
    previous = published_plan(session, code) if keep_previous else None
    if previous is not None:
        grids = plan_grids(session, previous.id)
        grids.insert(1, "community_code", code)
        inputs.previous_grids, inputs.previous_plan_id = grids, previous.id
        inputs.previous_assignments = plan_assignments(session, previous.id)
    return inputs


Layer = type[Building | Road | VillagerGroup]


def _frame(session: Session, model: Layer, where: ColumnElement[bool]) -> gpd.GeoDataFrame:
    """The model's rows matching where, geometry as shapely, in primary-key order."""
    columns = [c for c in model.__table__.columns if c.name != "geom"]
    rows = session.execute(select(*columns, model.geom).where(where).order_by(*model.__table__.primary_key)).all()
    table = pd.DataFrame([r[:-1] for r in rows], columns=[c.name for c in columns])
    return gpd.GeoDataFrame(table, geometry=[to_shape(r[-1]) for r in rows], crs=SRID)


def _nonempty(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    return frame if len(frame) else None
