"""The layers of a plan file, one schema for `geogrid partition`'s GeoPackage and every export of the API.

grids: grid_code, community_code, community_name (Chinese), street_code, street_name (Chinese, where known),
kind (urban/rural), plan_version (the store's version number; empty from `geogrid partition`), households,
population, building_count, compactness, within_limits, flag_count, flags (JSON list), villager_groups
(village grids: their group ids, comma-separated), MultiPolygon in WGS-84.
assignments: building_id, units, grid_code, community_code, households, population, the building's footprint.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

WGS84 = "EPSG:4326"
GRID_FIELDS = ["grid_code", "community_code", "community_name", "street_code", "street_name", "kind", "plan_version",
               "households", "population", "building_count", "compactness", "within_limits", "flag_count", "flags",
               "villager_groups"]
ASSIGNMENT_FIELDS = ["building_id", "units", "grid_code", "community_code", "households", "population"]
AREA_FIELDS = ["community_code", "community_name", "street_code", "street_name", "kind"]
TYPES = {"grid_code": "string", "community_code": "string", "community_name": "string", "street_code": "string",
         "street_name": "string", "kind": "string", "plan_version": "Int64", "households": "int64",
         "population": "int64", "building_count": "int64", "compactness": "float64", "within_limits": "bool",
         "flag_count": "int64", "flags": "string", "villager_groups": "string", "building_id": "string",
         "units": "string"}


def grids_layer(grids: gpd.GeoDataFrame, areas: pd.DataFrame, plan_version: int | None = None) -> gpd.GeoDataFrame:
    """grids (grid_code, community_code, counts, flags as JSON text; villager_groups optional) in the plan schema.

    areas: one row per community with AREA_FIELDS (names in Chinese); missing fields are left empty."""
    frame = pd.DataFrame(grids.drop(columns=grids.geometry.name))
    frame["community_code"] = frame["community_code"].astype(str)
    given = [c for c in AREA_FIELDS[1:] if c in areas and areas[c].notna().any()]  # areas win over the grids' own
    known = areas[["community_code", *given]].drop_duplicates("community_code").astype({"community_code": str})
    frame = frame.drop(columns=[c for c in given if c in frame]).merge(known, on="community_code", how="left")
    frame["plan_version"] = plan_version
    flags = frame["flags"].fillna("[]").astype(str)
    frame["flags"] = flags
    frame["flag_count"] = [len(json.loads(text)) for text in flags]
    if "villager_groups" not in frame:
        frame["villager_groups"] = None
    frame = frame.reindex(columns=GRID_FIELDS).astype({c: TYPES[c] for c in GRID_FIELDS})
    return gpd.GeoDataFrame(frame, geometry=as_multipolygons(grids.geometry.to_numpy()), crs=grids.crs or WGS84)


def as_multipolygons(shapes: np.ndarray) -> np.ndarray:
    """Polygons and multipolygons as multipolygons, one per input (every grid has at least one part)."""
    parts, index = shapely.get_parts(shapes, return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    merged = shapely.multipolygons(parts[polygons], indices=index[polygons])
    if len(merged) != len(shapes):
        raise ValueError("a grid has no polygon")
    return merged


def assignments_layer(assignments: pd.DataFrame, footprints: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """assignments (building_id, grid_code, units, households, population) with each building's footprint
    (footprints indexed by building id; empty where the building is gone) and its grid's community."""
    frame = pd.DataFrame(assignments).copy()
    frame["building_id"] = frame["building_id"].astype(str)
    if "community_code" not in frame:
        frame["community_code"] = None
    if "units" not in frame:
        frame["units"] = ""
    frame = frame.reindex(columns=ASSIGNMENT_FIELDS).astype(
        {"building_id": "string", "units": "string", "grid_code": "string", "community_code": "string",
         "households": "int64", "population": "int64"})
    shapes = np.asarray(footprints.reindex(frame["building_id"].to_numpy()).to_numpy(), dtype=object)
    polygonal = np.isin(shapely.get_type_id(shapes), (3, 6))  # footprints as multipolygons, as the store keeps them
    shapes[polygonal] = as_multipolygons(shapes[polygonal])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(shapes, crs=footprints.crs or WGS84).to_numpy(),
                            crs=footprints.crs or WGS84)
