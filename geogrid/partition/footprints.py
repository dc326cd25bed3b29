"""Footprints made fit for the tessellation: nested ones join their container, overlaps are carved."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

JOIN_SHARE = 0.5  # a footprint with at least this share of its area inside another joins it
OVERLAP_M2 = 0.01  # overlaps smaller than this (shared walls, digitising noise) are left alone
COUNTS = ("households", "population")


@dataclass
class Footprints:
    """What the engine divides (``atoms``: one row per footprint that owns a cell) and what it
    reports: ``shapes`` (every building with the footprint its grid must hold), ``members``
    (building id of a nested footprint -> the building whose cell it joins) and ``repairs``."""

    atoms: gpd.GeoDataFrame
    shapes: gpd.GeoDataFrame
    members: dict[str, str]
    repairs: list[dict]


def resolve(buildings: gpd.GeoDataFrame) -> Footprints:
    """Join nested footprints to their container and carve the rest of every overlap out of the
    smaller footprint, so that the footprints the tessellation gets are disjoint."""
    buildings = buildings.reset_index(drop=True)
    if buildings.empty or not len(_overlaps(buildings.geometry.to_numpy())[0]):  # the usual case: nothing to do
        return Footprints(buildings, buildings, {}, [])
    geoms = shapely.make_valid(buildings.geometry.to_numpy())
    extra = np.empty((0, 2), dtype=np.int64)  # pairs of buildings joined because carving emptied one
    while True:
        joined = _joined(geoms, extra)
        shapes = _group_shapes(geoms, joined)
        carved, lost = _carve(shapes)
        if not lost.any():
            break
        extra = np.vstack([extra, _join_lost(joined, shapes, lost)])
    return _result(buildings, geoms, joined, shapes, carved)


def expand(assignments: pd.DataFrame, members: dict[str, str], buildings: gpd.GeoDataFrame,
           grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Assignments with each nested building in its container's grid, with its own counts taken back
    from the container's row (which holds them while the engine divides). Where the container was
    split by units, the row is that of the grid holding most of the nested footprint; every such
    row holds at least one unit's share, which is enough (see ``_units_too_small``)."""
    if not members:
        return assignments
    own = buildings.set_index("building_id")
    nested = pd.Series(members, name="building_id").rename_axis("member").reset_index()
    candidates = nested.merge(assignments.reset_index(), on="building_id")
    where = grids.set_index("grid_code").geometry.reindex(candidates["grid_code"]).to_numpy()
    candidates["inside"] = shapely.area(shapely.intersection(own.geometry.reindex(candidates["member"]).to_numpy(),
                                                             where))
    host = candidates.sort_values(["member", "inside", "households", "grid_code"],
                                  ascending=[True, False, False, True], kind="stable").drop_duplicates("member")
    rows = host.assign(building_id=host["member"], units="")
    for column in COUNTS:
        rows[column] = rows["building_id"].map(own[column]).to_numpy()
    out = assignments.copy()
    for column in COUNTS:
        taken = rows.groupby("index")[column].sum()
        out.loc[taken.index, column] = out.loc[taken.index, column] - taken.astype(out[column].dtype)
    both = pd.concat([out, rows[assignments.columns]], ignore_index=True)
    return both.sort_values(["building_id", "grid_code"], kind="stable", ignore_index=True)


def _joined(geoms: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Each footprint's group: footprints mostly inside another are joined, and the ``extra`` pairs."""
    i, j, overlap = _overlaps(geoms)
    smaller = np.minimum(shapely.area(geoms[i]), shapely.area(geoms[j]))
    nested = overlap >= JOIN_SHARE * np.maximum(smaller, 1e-12)
    n = len(geoms)
    rows = np.concatenate([i[nested], extra[:, 0], np.arange(n)])
    cols = np.concatenate([j[nested], extra[:, 1], np.arange(n)])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _overlaps(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) of footprints whose interiors overlap by more than OVERLAP_M2, and by how much."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    overlap = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    big = overlap > OVERLAP_M2
    return i[big], j[big], overlap[big]


def _group_shapes(geoms: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The union of each group's footprints, in group order."""
    shapes = np.empty(group.max() + 1 if len(group) else 0, dtype=object)
    for g in np.unique(group[np.bincount(group)[group] > 1]):
        shapes[g] = shapely.union_all(geoms[group == g])
    alone = np.bincount(group)[group] == 1
    shapes[group[alone]] = geoms[alone]
    return shapes


def _carve(shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every overlap left to the larger footprint; ``lost``: footprints with nothing left."""
    i, j, _ = _overlaps(shapes)
    if len(i) == 0:
        return shapes, np.zeros(len(shapes), dtype=bool)
    area = shapely.area(shapes)
    i_smaller = (area[i] < area[j]) | ((area[i] == area[j]) & (i > j))
    small, large = np.where(i_smaller, i, j), np.where(i_smaller, j, i)
    carved = shapes.copy()
    for s in np.unique(small):
        carved[s] = _polygons(shapely.difference(shapes[s], shapely.union_all(shapes[large[small == s]])))
    lost = np.zeros(len(shapes), dtype=bool)
    lost[small] = shapely.is_empty(carved[small]) | (shapely.area(carved[small]) <= OVERLAP_M2)
    return carved, lost


def _join_lost(group: np.ndarray, shapes: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """Pairs of buildings joining each group that carving left empty to the group it overlaps most."""
    i, j, overlap = _overlaps(shapes)
    first = np.full(len(shapes), -1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]  # a building of each group
    pairs = []
    for g in np.flatnonzero(lost):
        mine = (i == g) | (j == g)
        other = np.where(i[mine] == g, j[mine], i[mine])
        pairs.append((first[g], first[other[np.argmax(overlap[mine])]]))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _polygons(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > OVERLAP_M2)]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _result(buildings: gpd.GeoDataFrame, geoms: np.ndarray, group: np.ndarray, shapes: np.ndarray,
            carved: np.ndarray) -> Footprints:
    area = shapely.area(geoms)
    units = _units(buildings)
    # per group, the container: the building with the most units (a tower in its podium keeps its
    # units), then the largest, then the first in file order
    order = np.lexsort((np.arange(len(group)), -area, -units, group))
    first = np.r_[True, group[order][1:] != group[order][:-1]]
    container = np.empty(len(group), dtype=np.int64)
    container[order] = np.repeat(order[first], np.diff(np.r_[np.flatnonzero(first), len(order)]))
    ids = buildings["building_id"].to_numpy()
    is_member = container != np.arange(len(group))
    members = dict(zip(ids[is_member].tolist(), ids[container[is_member]].tolist()))
    footprint = carved[group]
    shape_frame = buildings.set_geometry(gpd.GeoSeries(np.where(is_member, geoms, footprint), crs=buildings.crs))
    atoms = _atoms(buildings, group, container, footprint, is_member)
    return Footprints(atoms, shape_frame, members, _repairs(ids, geoms, footprint, container, is_member))


def _atoms(buildings, group, container, footprint, is_member) -> gpd.GeoDataFrame:
    """One row per container, with its members' counts added and their footprints joined."""
    atoms = buildings[~is_member].copy()
    for column in COUNTS:
        atoms[column] = np.bincount(container, weights=buildings[column].to_numpy(float),
                                    minlength=len(buildings))[~is_member].astype(np.int64)
    if "units" in atoms:
        atoms["units"] = atoms["units"].astype("Int64").mask(_units_too_small(buildings, container, is_member))
    return atoms.set_geometry(gpd.GeoSeries(footprint[~is_member], index=atoms.index, crs=buildings.crs))


def _units(buildings: pd.DataFrame) -> np.ndarray:
    if "units" not in buildings:
        return np.zeros(len(buildings))
    return pd.to_numeric(buildings["units"], errors="coerce").fillna(0).to_numpy(float)


def _units_too_small(buildings: pd.DataFrame, container: np.ndarray, is_member: np.ndarray) -> np.ndarray:
    """Per container: its members could not take their counts back from one unit's share of the whole
    (the container is then not split by units, see ``expand``)."""
    units = np.maximum(_units(buildings), 1)[~is_member]
    too_small = np.zeros(int((~is_member).sum()), dtype=bool)
    for column in COUNTS:
        values = buildings[column].to_numpy(float)
        whole = np.bincount(container, weights=values, minlength=len(buildings))[~is_member]
        nested = np.bincount(container, weights=np.where(is_member, values, 0.0), minlength=len(buildings))[~is_member]
        too_small |= nested > np.floor(whole / units)
    return too_small


def _repairs(ids, geoms, footprint, container, is_member) -> list[dict]:
    repairs = [{"building_id": str(ids[b]), "repair": "nested_joined", "container": str(ids[container[b]]),
                "reason": f"one of this footprint and building {ids[container[b]]}'s lies (mostly) inside the "
                          f"other: it joins that building's cell and grid, with its own households counted"}
               for b in np.flatnonzero(is_member)]
    lost = shapely.area(geoms) - shapely.area(footprint)
    for b in np.flatnonzero(~is_member & (lost > OVERLAP_M2) & (np.bincount(container)[container] == 1)):
        repairs.append({"building_id": str(ids[b]), "repair": "overlap_carved", "overlap_m2": round(float(lost[b]), 2),
                        "reason": f"{lost[b]:.1f} m² of the footprint overlaps a larger footprint and is "
                                  f"left to it"})
    return sorted(repairs, key=lambda r: r["building_id"])
