"""A partitioned synthetic community to edit: as an editing.Plan, and as layers to load into a store."""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely

from geogrid.partition import editing
from geogrid.partition import partition
from geogrid.partition.engine import PartitionResult
from geogrid.partition.rules import Rules
from tests.synthetic import METRIC, community

DISTRICT, STREET, COMMUNITY = "360702", "360702-001", "360702-001-001"
GRID_COLUMNS = ["grid_code", "households", "population", "building_count", "compactness", "within_limits", "flags"]
ASSIGNMENT_COLUMNS = ["building_id", "units", "grid_code", "households", "population"]


@lru_cache
def partitioned(seed: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, PartitionResult]:
    """(communities, buildings, partition result) of one synthetic urban community of about 20 grids."""
    communities, buildings, roads = community(np.random.default_rng(seed), code=COMMUNITY, width=700, height=600)
    return communities, buildings, partition(communities, buildings, roads=roads)


def plan(seed: int = 3) -> editing.Plan:
    """The partition of the synthetic community as a plan to edit."""
    communities, buildings, result = partitioned(seed)
    return editing.Plan(
        community_code=COMMUNITY,
        kind="urban",
        community=communities.geometry.iloc[0],
        rules=Rules(),
        grids=result.grids[[*GRID_COLUMNS, "geometry"]].copy(),
        assignments=result.assignments[ASSIGNMENT_COLUMNS].copy(),
        buildings=buildings[["building_id", "households", "population", "geometry"]].copy(),
    )


def layers(seed: int = 3) -> dict[str, gpd.GeoDataFrame]:
    """District, street, community and buildings of the synthetic community, for import_layer."""
    communities, buildings, _ = partitioned(seed)
    outline = communities.geometry.iloc[0]
    crs = "EPSG:4326"
    return {
        "districts": gpd.GeoDataFrame({"district_code": [DISTRICT], "name": ["章贡区"]}, geometry=[outline], crs=crs),
        "streets": gpd.GeoDataFrame({"street_code": [STREET], "name": ["解放街道"], "kind": ["street"],
                                     "district_code": [DISTRICT]}, geometry=[outline], crs=crs),
        "communities": communities.assign(street_code=STREET),
        "buildings": buildings.assign(community_code=COMMUNITY),
    }


def neighbours(p: editing.Plan) -> list[tuple[str, str, float]]:
    """Pairs of grids (a, b) that share a boundary, with the shared length in metres, longest first."""
    geoms = p.grids.to_crs(METRIC).set_index("grid_code").geometry
    codes = list(geoms.index)
    pairs = []
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            shared = shapely.length(shapely.intersection(geoms[a].boundary, geoms[b].boundary))
            if shared > 1:
                pairs.append((a, b, float(shared)))
    return sorted(pairs, key=lambda t: -t[2])


def border_building(p: editing.Plan, source: str, target: str) -> str:
    """The building of grid source nearest grid target (its cell touches target)."""
    ids = p.assignments.loc[p.assignments["grid_code"] == source, "building_id"]
    footprints = p.buildings.set_index("building_id").loc[ids].to_crs(METRIC).geometry
    other = p.grids.to_crs(METRIC).set_index("grid_code").geometry[target]
    return str(footprints.distance(other).idxmin())


def interior_grid(p: editing.Plan, margin_m: float = 40.0) -> str:
    """A grid at least margin_m away from the community's edge."""
    outline = gpd.GeoSeries([p.community], crs=4326).to_crs(METRIC).iloc[0].boundary
    geoms = p.grids.to_crs(METRIC).set_index("grid_code").geometry
    return str(geoms[geoms.distance(outline) > margin_m].index[0])


def store_draft(session) -> int:
    """The synthetic community's layers imported into the store and its partition saved as a draft: the plan id."""
    from geogrid.store.imports import import_layer
    from geogrid.store.plans import save_partition

    for kind, gdf in layers().items():
        import_layer(session, kind, gdf)
    _, _, result = partitioned()
    return save_partition(session, COMMUNITY, result, Rules(), "planner").id


def store_published(session) -> int:
    """store_draft, published (by a leader): the plan id."""
    from geogrid.store.plans import publish

    plan_id = store_draft(session)
    publish(session, plan_id, "leader")
    return plan_id


def store_another_draft(session) -> int:
    """A second draft of the same partition beside the stored one: the plan id."""
    from geogrid.store.plans import save_partition

    return save_partition(session, COMMUNITY, partitioned()[2], Rules(), "planner").id
