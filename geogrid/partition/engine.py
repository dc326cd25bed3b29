"""The partition engine: communities and buildings in, grids and assignments out."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geogrid.errors import InputError
from geogrid.geo import validate
from geogrid.geo.crs import metric_crs
from geogrid.geo.precision import snap_geometries
from geogrid.geo.roads import UNKNOWN, road_classes
from geogrid.partition.atoms import assignment_atoms
from geogrid.partition.community import CommunityResult, CommunityTask, partition_community
from geogrid.partition import areas
from geogrid.partition.report import build_report, repairs_section
from geogrid.partition.rules import Rules

WGS84 = "EPSG:4326"
POINT_FOOTPRINT_M = 1.0  # half the side of the square given to a building known only as a point
FLAT_M2 = 0.01  # a footprint with less area than this has collapsed: it is kept as a point building


@dataclass
class PartitionResult:
    """What a partition run produces.

    grids: GeoDataFrame (EPSG:4326) with grid_code, community_code, kind, households,
        population, building_count, compactness (Polsby-Popper), within_limits (bool),
        flags (JSON text: a list of {"rule", "reason", ...}) and, for villages,
        villager_groups.
    assignments: DataFrame with building_id, community_code, grid_code (null for a
        building outside every community), households, population and units ("1-3" for
        the units of a tower split by units, else "").
    report: dict, JSON-ready, per community and in total.
    """

    grids: gpd.GeoDataFrame
    assignments: pd.DataFrame
    report: dict = field(default_factory=dict)


def partition(
    communities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    roads: gpd.GeoDataFrame | None = None,
    villager_groups: gpd.GeoDataFrame | None = None,
    previous_grids: gpd.GeoDataFrame | None = None,
    previous_assignments: pd.DataFrame | None = None,
    rules: Rules | None = None,
    road_class_column: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    resolve_overlaps: bool = False,
) -> PartitionResult:
    """Divide every community into second-level grids that meet ``rules``.

    Inputs are GeoDataFrames in any CRS that declares itself (lon/lat inputs in GCJ-02
    or BD-09 must be converted first, see ``geogrid.geo.crs.to_wgs84``). ``executor`` (a
    process pool, or a Dask client's executor) runs communities in parallel.
    The result does not depend on the executor or the order of the inputs' rows, and hardly on the
    input CRS: footprints are snapped to ``geogrid.geo.precision.SNAP_M`` metres, and the heuristics
    read rounded positions, lengths and scores (``bench/crs_stability.py``).
    Communities that overlap are refused (InputError) unless ``resolve_overlaps``: then each
    overlap goes to the community with the smaller code. Every repair of the input (a collapsed
    footprint kept as a point, a nested footprint joined to its container, an overlap carved, a
    building cut by a community boundary, an overlap of communities given away) is listed in
    ``report["input_repairs"]``, with the gaps between communities.
    ``road_class_column`` names the roads' class column (else ``highway``, ``road_class``, ``道路等级``
    ... are read if present, see ``geogrid.geo.roads``); footways and service roads do not cut blocks,
    and grid boundaries prefer major streets to minor ones. Roads without a class are all streets.
    """
    started = time.perf_counter()
    rules = rules or Rules()
    communities = validate.validate_communities(communities)
    buildings = validate.validate_buildings(_points_as_footprints(buildings), keep_collapsed=True)
    collapsed = buildings.attrs.get("collapsed_ids", [])
    fixed = [_polygon_repaired("building_id", b) for b in buildings.attrs.get("repaired_ids", [])]
    fixed_communities = [_polygon_repaired("community_code", c) for c in communities.attrs.get("repaired_ids", [])]
    buildings = _points_as_footprints(buildings)
    metric = metric_crs(communities.to_crs(WGS84))
    # only footprints are snapped: outlines, streets, villager groups and old grids share lines with each other
    # (a community drawn along its streets), which snapping one and not the other would pull apart into slivers
    communities = communities.to_crs(metric).sort_values("community_code", kind="stable").reset_index(drop=True)
    communities, community_repairs = areas.settle_overlaps(communities, resolve_overlaps)
    buildings = _snapped(buildings.to_crs(metric)).sort_values("building_id", kind="stable").reset_index(drop=True)
    buildings, flat = _flat_as_points(buildings)
    collapsed = sorted(set(collapsed) | set(flat))
    road_geoms, road_kinds = _streets(roads, road_class_column, metric)
    groups = None
    if villager_groups is not None and len(villager_groups):
        groups = validate.validate_villager_groups(villager_groups).to_crs(metric)
    previous_grids, previous_assignments = validate.validate_previous_plan(previous_grids, previous_assignments)
    previous = None if previous_grids is None else previous_grids.to_crs(metric)

    home, buildings, cut_repairs = areas.homes(buildings, communities)
    tasks = list(_tasks(communities, buildings, home, (road_geoms, road_kinds), groups, previous, previous_assignments))
    results = _run(tasks, rules, executor, progress)

    grids = pd.concat([r.grids for r in results], ignore_index=True) if results else _empty_grids(metric)
    grids = grids.sort_values("grid_code", kind="stable", ignore_index=True)
    grids = gpd.GeoDataFrame(grids, geometry="geometry", crs=metric).to_crs(WGS84)
    assignments = pd.concat([r.assignments for r in results] + [_outside(buildings, home)], ignore_index=True)
    report = build_report(
        tasks, results, assignments, previous_assignments, rules, time.perf_counter() - started, metric
    )
    report["input_repairs"] = repairs_section(
        fixed + [_point_building(b) for b in collapsed] + cut_repairs + [r for res in results for r in res.repairs],
        fixed_communities + community_repairs, areas.gaps(communities))
    return PartitionResult(grids, assignments, report)


def _snapped(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Footprints (in metres) with their coordinates snapped to a fixed precision, so that the same data
    given in any input CRS (equal to nanometres after reprojection) gives the same cells and plan."""
    out = buildings.copy()
    out[out.geometry.name] = gpd.GeoSeries(snap_geometries(out.geometry.to_numpy()), index=out.index, crs=out.crs)
    return out


def _points_as_footprints(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Buildings given as points (a CSV of lon/lat) get a 2 m square footprint around the point."""
    points = (buildings.geom_type == "Point").to_numpy()
    if not points.any() or buildings.crs is None:
        return buildings
    metric = metric_crs(buildings.to_crs(WGS84))
    squares = buildings.geometry[points].to_crs(metric).buffer(POINT_FOOTPRINT_M, cap_style="square")
    out = buildings.copy()
    out.loc[points, out.geometry.name] = squares.to_crs(buildings.crs).to_numpy()
    return out


def _flat_as_points(buildings: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Footprints with (next to) no area in metres, such as a ring whose points lie on a line (valid in
    lon/lat by rounding), become point buildings: the square of a point at the centre of their bounds."""
    geoms = buildings.geometry.to_numpy()
    flat = shapely.area(geoms) < FLAT_M2
    if not flat.any():
        return buildings, []
    squares = shapely.buffer(validate.collapsed_places(geoms[flat]), POINT_FOOTPRINT_M, cap_style="square")
    geoms = geoms.copy()
    geoms[flat] = squares
    out = buildings.set_geometry(gpd.GeoSeries(geoms, index=buildings.index, crs=buildings.crs))
    return out, buildings["building_id"].to_numpy()[flat].astype(str).tolist()


def _polygon_repaired(column: str, value: str) -> dict:
    return {column: value, "repair": "polygon_repaired",
            "reason": "the polygon was invalid (it crosses itself, or a ring is not closed): it was repaired "
                      "(GEOS make_valid) and its polygonal part kept"}


def _point_building(building_id: str) -> dict:
    return {"building_id": building_id, "repair": "point_building",
            "reason": "the footprint has collapsed (too few points, no area): the building is kept as a point "
                      "with its households and residents counted"}


def _community_of(buildings: np.ndarray, communities: np.ndarray) -> np.ndarray:
    """Index of the community holding each building's interior point (-1 for none)."""
    home = np.full(len(buildings), -1, dtype=np.int64)
    if len(buildings) == 0:
        return home
    tree = shapely.STRtree(communities)
    b, c = tree.query(shapely.point_on_surface(buildings), predicate="within")
    order = np.lexsort((c, b))  # lowest community code wins on shared boundaries
    b, c = b[order], c[order]
    first = np.r_[len(b) > 0, b[1:] != b[:-1]][: len(b)]
    home[b[first]] = c[first]
    return home


def _streets(roads: gpd.GeoDataFrame | None, class_column: str | None,
             metric) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The road lines in metres and the class of each (``geogrid.geo.roads``; all ``UNKNOWN`` without one)."""
    if roads is None and class_column is not None:
        raise InputError(f"a road class column ({class_column!r}) was named but no roads were given")
    if roads is None or roads.empty:
        if class_column is not None:
            road_classes(roads, class_column)  # a column named for a layer without it is still an error
        return None, None
    lines = validate.validate_roads(roads).to_crs(metric)
    kinds = road_classes(lines, class_column)
    return lines.geometry.to_numpy(), np.full(len(lines), UNKNOWN) if kinds is None else kinds


def _tasks(communities, buildings, home, streets, groups, previous, previous_assignments):
    roads, kinds = streets
    road_tree = None if roads is None else shapely.STRtree(roads)
    group_home = None
    if groups is not None:
        group_home = _community_of(groups.geometry.to_numpy(), communities.geometry.to_numpy())
    labels = {} if previous_assignments is None else _previous_labels(previous_assignments)
    for c, row in enumerate(communities.itertuples(index=False)):
        geom = row.geometry
        own = buildings[home == c]
        near = None if road_tree is None else np.sort(road_tree.query(geom, predicate="intersects"))
        own_groups = None if groups is None else groups[group_home == c]
        prev = None
        if previous is not None:
            prev = previous[previous["community_code"].astype(str) == row.community_code]
        prev_labels = {key: code for b in own["building_id"] if b in labels for key, code in labels[b].items()} or None
        yield CommunityTask(row.community_code, row.kind, geom, own, None if near is None else roads[near], own_groups,
                            prev_labels, prev, road_classes=None if near is None else kinds[near])


def _previous_labels(assignments: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Building id -> {building id, or ``id:unit`` for each unit of a tower split by units: its grid code}."""
    atoms = assignment_atoms(assignments)
    labels: dict[str, dict[str, str]] = {}
    for building, key, code in zip(atoms["building_id"], atoms["key"], atoms["grid_code"]):
        labels.setdefault(building, {})[key] = code
    return labels


def _run(tasks, rules, executor, progress) -> list[CommunityResult]:
    total = len(tasks)
    if executor is None:
        results = []
        for n, task in enumerate(tasks, 1):
            results.append(partition_community(task, rules))
            if progress:
                progress(n, total)
        return results
    futures = [executor.submit(partition_community, task, rules) for task in tasks]
    results = []
    for n, future in enumerate(futures, 1):
        results.append(future.result())
        if progress:
            progress(n, total)
    return results


def _outside(buildings: gpd.GeoDataFrame, home: np.ndarray) -> pd.DataFrame:
    """Buildings outside every community: kept in the assignments with no grid."""
    lost = buildings[home < 0]
    return pd.DataFrame({
        "building_id": lost["building_id"].to_numpy(),
        "community_code": None,
        "grid_code": None,
        "households": lost["households"].to_numpy(),
        "population": lost["population"].to_numpy(),
        "units": "",
    })


def _empty_grids(crs) -> gpd.GeoDataFrame:
    columns = ["grid_code", "community_code", "kind", "households", "population", "building_count",
               "compactness", "within_limits", "flags"]
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)
