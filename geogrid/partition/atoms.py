"""Atoms of a partition: buildings (towers split by units) and the cells that tile a community."""

from __future__ import annotations

import warnings

import geopandas as gpd
import momepy
import numpy as np
import pandas as pd
import shapely

from geogrid.partition.contiguity import whole_cells
from geogrid.partition.limits import Limits

# Tessellation detail: boundary sample spacing (m) and inward shrink of footprints (m).
SEGMENT_M = 4.0
SHRINK_M = 0.4
# Slivers narrower than this between cells (floating-point noise of clipping) are closed.
GAP_WIDTH_M = 0.05
DUST_M2 = 0.01  # polygon parts smaller than this are numerical dust


def split_towers(buildings: gpd.GeoDataFrame, limits: Limits) -> gpd.GeoDataFrame:
    """One atom per building, except a tower that alone breaks the limits and has a unit count.

    Such a tower becomes one atom per unit (单元): a slice of its footprint across its long
    axis, with the households and residents shared out evenly. Columns of the result:
    building_id, unit_from, unit_to, units_total, households, population, compound, geometry.
    """
    atoms = buildings[["building_id", "households", "population", "compound", "geometry"]].copy()
    units = pd.to_numeric(buildings["units"], errors="coerce").fillna(0).astype(int).to_numpy()
    atoms["unit_from"] = 0
    atoms["unit_to"] = 0
    atoms["units_total"] = units
    alone_breaks = limits.breaks_max(atoms["households"].to_numpy(), atoms["population"].to_numpy())
    splittable = alone_breaks & (units > 1)
    if not splittable.any():
        return atoms.reset_index(drop=True)
    pieces = [_unit_slices(row).set_crs(atoms.crs) for row in atoms[splittable].itertuples(index=False)]
    return pd.concat([atoms[~splittable], *pieces], ignore_index=True)


def unit_ranges(units: pd.Series) -> str:
    """'1-2,4' for units 1, 2 and 4; '' for a building that was not split."""
    values = sorted(int(u) for u in units if u > 0)
    if not values:
        return ""
    runs, start, prev = [], values[0], values[0]
    for v in values[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        runs.append(f"{start}" if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ",".join(runs)


def parse_unit_ranges(text: str) -> list[int]:
    """[1, 2, 4] for '1-2,4' (the inverse of ``unit_ranges``)."""
    units = []
    for run in filter(None, (r.strip() for r in text.split(","))):
        first, _, last = run.partition("-")
        units.extend(range(int(first), int(last or first) + 1))
    return units


def unit_key(building_id: str, unit: int) -> str:
    """The key of one unit of a tower split by units, beside plain building ids."""
    return f"{building_id}:{unit}"


def assignment_atoms(assignments: pd.DataFrame) -> pd.DataFrame:
    """A plan's assignments one row per atom: building_id, key (the building id, or ``id:unit`` for
    each unit of a tower split by units), grid_code, community_code (if given) and households
    (a range of units shares its row's households evenly)."""
    frame = assignments.dropna(subset=["grid_code"])
    units = frame["units"].fillna("").astype(str) if "units" in frame else pd.Series("", index=frame.index)
    lists = [parse_unit_ranges(u) if u else [None] for u in units]
    counts = np.array([len(u) for u in lists])
    ids = frame["building_id"].astype(str).to_numpy().repeat(counts)
    flat = [u for unit_list in lists for u in unit_list]
    out = pd.DataFrame({
        "building_id": ids,
        "key": [b if u is None else unit_key(b, u) for b, u in zip(ids, flat)],
        "grid_code": frame["grid_code"].astype(str).to_numpy().repeat(counts),
        "households": (_households(frame) / np.maximum(counts, 1)).repeat(counts),
    })
    if "community_code" in frame:
        out["community_code"] = frame["community_code"].to_numpy().repeat(counts)
    return out


def _households(frame: pd.DataFrame) -> np.ndarray:
    if "households" not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame["households"], errors="coerce").to_numpy(float)


def atom_keys(atoms: pd.DataFrame) -> np.ndarray:
    """Each atom's key: its building id, or ``id:unit`` for a unit of a tower split by units."""
    ids = atoms["building_id"].astype(str).to_numpy()
    if "unit_from" not in atoms:
        return ids
    unit = atoms["unit_from"].to_numpy()
    return np.array([unit_key(b, u) if u else b for b, u in zip(ids, unit)], dtype=object)


def _unit_slices(tower) -> gpd.GeoDataFrame:
    """Slice one tower's footprint into its units along the long axis."""
    n = int(tower.units_total)
    households = _share(int(tower.households), n)
    population = _share(int(tower.population), n)
    rect = np.asarray(shapely.minimum_rotated_rectangle(tower.geometry).exterior.coords)[:4]
    edges = np.diff(np.vstack([rect, rect[:1]]), axis=0)
    long_edge = edges[np.argmax(np.hypot(edges[:, 0], edges[:, 1]))]
    axis = long_edge / np.hypot(*long_edge)
    normal = np.array([-axis[1], axis[0]])
    coords = shapely.get_coordinates(tower.geometry)
    s = coords @ axis
    t = coords @ normal
    cuts = np.linspace(s.min(), s.max(), n + 1)
    pad = 1.0
    slices = []
    for i in range(n):
        a, b = cuts[i] - (pad if i == 0 else 0), cuts[i + 1] + (pad if i == n - 1 else 0)
        lo, hi = t.min() - pad, t.max() + pad
        corners = np.array([[a, lo], [b, lo], [b, hi], [a, hi]])
        strip = shapely.Polygon(corners[:, :1] * axis + corners[:, 1:] * normal)
        slices.append(shapely.intersection(tower.geometry, strip))
    return gpd.GeoDataFrame(
        {
            "building_id": tower.building_id,
            "households": households,
            "population": population,
            "compound": tower.compound,
            "unit_from": np.arange(1, n + 1),
            "unit_to": np.arange(1, n + 1),
            "units_total": n,
        },
        geometry=slices,
    )


def _share(total: int, parts: int) -> np.ndarray:
    """Split an integer total into ``parts`` near-equal integers (the first ones larger)."""
    base, extra = divmod(total, parts)
    return base + (np.arange(parts) < extra).astype(int)


def enclosures(community: shapely.Geometry, roads: gpd.GeoSeries | None, crs) -> gpd.GeoSeries:
    """The community cut into blocks by the street network (the whole community without one)."""
    limit = gpd.GeoSeries([community], crs=crs)
    if roads is None or roads.empty:
        return _block_parts(limit)
    near = roads[roads.intersects(community)]
    if near.empty:
        return _block_parts(limit)
    # clip: only the faces inside the community (roads that loop outside it enclose faces there too)
    blocks = momepy.enclosures(near, limit=limit, clip=True)
    return _block_parts(gpd.GeoSeries(blocks.geometry.values, crs=crs))


def _block_parts(blocks: gpd.GeoSeries) -> gpd.GeoSeries:
    """Each separate part of a block its own block (a community in parts, an exclave), so that no
    cell spans two of them."""
    geoms = blocks.to_numpy()
    if (shapely.get_num_geometries(geoms) <= 1).all():
        return blocks
    parts = polygonal(shapely.get_parts(geoms))
    return gpd.GeoSeries(parts[~shapely.is_empty(parts)], crs=blocks.crs)


def tessellate(atoms: gpd.GeoDataFrame, blocks: gpd.GeoSeries) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Cells that tile the blocks exactly: one per atom, plus one per block without atoms.

    Returns the cells (atom cells first, in atom order, then empty blocks) and the block
    index of each cell. Each atom's footprint lies inside its own cell.
    """
    # no CRS on what momepy gets (all in the same metres): geopandas compares CRSs at every step
    # (without: 9% less time at 500,000 households, the same cells)
    footprints = gpd.GeoSeries(atoms.geometry.to_numpy(), index=atoms.index)
    frame = gpd.GeoDataFrame(geometry=blocks.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tess = momepy.enclosed_tessellation(
                footprints, frame, shrink=SHRINK_M, segment=SEGMENT_M, threshold=0.0, n_jobs=1
            )
        except ValueError:  # momepy needs one block with two buildings; each has one at most
            tess = _one_per_block(footprints, frame)
        except TypeError:  # a Voronoi cell that is not a polygon makes momepy's coverage_simplify fail: unsimplified
            tess = momepy.enclosed_tessellation(
                footprints, frame, shrink=SHRINK_M, segment=SEGMENT_M, threshold=0.0, simplify=False, n_jobs=1
            )
    empty = tess[tess.index < 0]
    atom_cells = tess[tess.index >= 0]
    if not atom_cells.index.is_unique:  # a footprint across a street owns a cell on each side
        atom_cells = atom_cells.dissolve(level=0, aggfunc="first")
    cells = np.full(len(atoms), None, dtype=object)
    block_of = np.full(len(atoms), -1, dtype=np.int64)
    cells[atom_cells.index.to_numpy()] = atom_cells.geometry.to_numpy()
    block_of[atom_cells.index.to_numpy()] = atom_cells["enclosure_index"].to_numpy()
    missing = shapely.is_missing(cells) | shapely.is_empty(cells)
    if missing.any():  # an atom the tessellation could not place: its footprint is its cell
        cells[missing] = atoms.geometry.to_numpy()[missing]
        block_of[missing] = _block_of(atoms.geometry.to_numpy()[missing], blocks)
    cells = _contain_footprints(cells, atoms.geometry.to_numpy())
    all_cells = polygonal(shapely.coverage_clean(polygonal(np.concatenate([cells, empty.geometry.to_numpy()])),
                                                  gap_width=GAP_WIDTH_M))
    all_blocks = np.concatenate([block_of, empty["enclosure_index"].to_numpy()])
    vanished = shapely.is_empty(all_cells)  # slivers that cleaning merged into their neighbours
    vanished[: len(atoms)] = False
    all_cells, all_blocks = all_cells[~vanished], all_blocks[~vanished]
    # cells clipped to non-convex blocks come out in pieces: the detached ones join a neighbour
    all_cells = whole_cells(all_cells, all_blocks, atoms.geometry.to_numpy())
    return gpd.GeoSeries(all_cells, crs=blocks.crs), all_blocks


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Only the polygons of each geometry, without dust (clipping leaves stray lines, points, slivers)."""
    mixed = np.flatnonzero(shapely.get_type_id(geoms) != 3)  # multipolygons too: they may carry dust
    if len(mixed) == 0:
        return geoms
    geoms = geoms.copy()
    for i in mixed:
        parts = shapely.get_parts(geoms[i])
        parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= DUST_M2)]
        geoms[i] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    return geoms


def _one_per_block(footprints: gpd.GeoSeries, blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The tessellation where no block holds two buildings: a block is its building's cell."""
    block, building = footprints.sindex.query(blocks.geometry, predicate="intersects")
    owner = np.full(len(blocks), -1, dtype=np.int64)
    owner[block] = footprints.index.to_numpy()[building]
    empty = owner < 0
    owner[empty] = -np.arange(1, empty.sum() + 1)
    return gpd.GeoDataFrame({"enclosure_index": np.arange(len(blocks))}, geometry=blocks.geometry.to_numpy(),
                            index=owner, crs=blocks.crs)


def _block_of(geoms: np.ndarray, blocks: gpd.GeoSeries) -> np.ndarray:
    tree = shapely.STRtree(blocks.to_numpy())
    return tree.query_nearest(shapely.point_on_surface(geoms), return_distance=False, all_matches=False)[1]


def _contain_footprints(cells: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """Make every footprint lie in its own cell: take it from the cells it overlaps."""
    tree = shapely.STRtree(cells)
    left, right = tree.query(footprints, predicate="intersects")
    foreign = left != right
    left, right = left[foreign], right[foreign]
    if len(left) == 0:
        return cells
    overlap = shapely.area(shapely.intersection(footprints[left], cells[right]))
    bad = overlap > 1e-6
    if not bad.any():
        return cells
    cells = cells.copy()
    for cell in np.unique(right[bad]):
        intruders = left[bad & (right == cell)]
        cells[cell] = shapely.difference(cells[cell], shapely.union_all(footprints[intruders]))
    for atom in np.unique(left[bad]):
        cells[atom] = shapely.union(cells[atom], footprints[atom])
    return cells


def adjacency(cells: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of cells sharing a boundary line, as (i, j, shared length), i < j."""
    geoms = cells.to_numpy()
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])))
    touching = shared > 0.01
    return i[touching], j[touching], shared[touching]
