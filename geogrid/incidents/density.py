"""Incident density for web maps: H3 hexagon counts, per-grid counts and rates, Getis-Ord Gi* hot spots (GeoJSON)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from itertools import repeat
from typing import Any

import geopandas as gpd
import h3
import numpy as np
from h3.api import numpy_int
from scipy.stats import false_discovery_control

# Web-map zoom -> H3 resolution: hexagons a few dozen screen pixels across (res 7 ~1.2 km edge-to-edge
# at zoom 10, res 10 ~130 m at zoom 16).
ZOOM_TO_RESOLUTION = {10: 7, 11: 7, 12: 8, 13: 8, 14: 9, 15: 9, 16: 10, 17: 11, 18: 11}


def h3_resolution_for_zoom(zoom: int) -> int:
    """The H3 resolution that suits a web-map zoom level (clamped outside zoom 10-18)."""
    if zoom <= 10:
        return max(0, min(7, 7 - (10 - int(zoom)) // 2))
    return ZOOM_TO_RESOLUTION[min(int(zoom), 18)]


def h3_cells(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """The H3 cell (uint64) of each point.

    h3 4.x has no vectorised point indexing (``h3.api.numpy_int`` returns arrays but indexes one point
    per call), so the calls are mapped in C over Python floats: 1,000,000 points in about 1.1 s here
    (the string API about 1.7 s).
    """
    lat_list, lon_list = np.asarray(lat, dtype=float).tolist(), np.asarray(lon, dtype=float).tolist()
    cells = map(numpy_int.latlng_to_cell, lat_list, lon_list, repeat(int(resolution)))
    return np.fromiter(cells, dtype=np.uint64, count=len(lat_list))


def _hexagon(cell: int) -> dict[str, Any]:
    """A cell's outline as a GeoJSON polygon (lon, lat; closed ring)."""
    ring = [[lng, lat] for lat, lng in numpy_int.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [ring + ring[:1]]}


def h3_density(lon: np.ndarray, lat: np.ndarray, resolution: int) -> dict[str, Any]:
    """Points counted per H3 cell: a FeatureCollection of hexagons with h3 (cell id) and count."""
    return cell_density(h3_cells(lon, lat, resolution), resolution)


def cell_counts(point_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct cells of points and how many points each holds."""
    return np.unique(np.asarray(point_cells, dtype=np.uint64), return_counts=True)


def cell_centres(cells: np.ndarray) -> np.ndarray:
    """(lat, lon) of each cell's centre."""
    return np.array([numpy_int.cell_to_latlng(int(c)) for c in cells.tolist()]).reshape(-1, 2)


def cell_density(point_cells: np.ndarray, resolution: int) -> dict[str, Any]:
    """Points (given as their H3 cells) counted per cell: a FeatureCollection of hexagons with h3 and count."""
    cells, counts = cell_counts(point_cells)
    features = [
        {"type": "Feature", "geometry": _hexagon(int(cell)),
         "properties": {"h3": h3.int_to_str(int(cell)), "count": int(count)}}
        for cell, count in zip(cells.tolist(), counts.tolist(), strict=True)
    ]
    return {"type": "FeatureCollection", "features": features, "resolution": int(resolution)}


def per_1000_households(count: int, households: int) -> float | None:
    """Cases per 1,000 households (None for an area without households)."""
    return count * 1000.0 / households if households > 0 else None


def per_1000_households_array(count: np.ndarray, households: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """per_1000_households over arrays; fill where an area has no households (or they are unknown: NaN)."""
    count, homes = np.asarray(count, dtype=float), np.asarray(households, dtype=float)
    with np.errstate(invalid="ignore"):
        has_homes = homes > 0
    return np.divide(count * 1000.0, homes, out=np.full_like(count, fill), where=has_homes)


def _counts_of(grids: gpd.GeoDataFrame, counts: Mapping[str, int]) -> np.ndarray:
    """Each grid's count (0 when absent), in the frame's row order."""
    return grids["grid_code"].map(counts).fillna(0).to_numpy(dtype=float)


def _features(grids: gpd.GeoDataFrame, columns: dict[str, Any]) -> dict[str, Any]:
    """grid_code and columns per grid as a GeoJSON FeatureCollection (plain Python values; NaN as null)."""
    frame = gpd.GeoDataFrame({"grid_code": grids["grid_code"].to_numpy(), **columns}, geometry=grids.geometry.values,
                             crs=grids.crs)
    return frame.to_crs(4326).to_geo_dict(na="null", drop_id=True)


def grid_density(grids: gpd.GeoDataFrame, counts: Mapping[str, int],
                 households: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Per grid (grid_code, geometry): count and per_1000_households (null without households).

    households maps grid codes to households; None takes the frame's ``households`` column.
    """
    count = _counts_of(grids, counts)
    homes = grids["households"] if households is None else grids["grid_code"].map(households)
    rate = per_1000_households_array(count, homes.to_numpy(dtype=float))
    return _features(grids, {"count": count.astype(int), "per_1000_households": rate})


def contiguity(grids: gpd.GeoDataFrame) -> Any:
    """Queen contiguity between the grids (shared edge or corner); a grid touching none (an island)
    is joined to its nearest grid (by centroid), so every grid has a neighbour."""
    from libpysal.weights import KNN, Queen, attach_islands

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands, which are handled next
        queen = Queen.from_dataframe(grids, use_index=False, silence_warnings=True)
        if not queen.islands:
            return queen
        centroids = gpd.GeoDataFrame(geometry=grids.geometry.to_crs(grids.estimate_utm_crs()).centroid)
        return attach_islands(queen, KNN.from_dataframe(centroids, k=1, use_index=False))


MIN_HOT_SPOT_GRIDS = 2  # Gi* compares a grid with its neighbours: fewer grids are none significant


def hot_spots(
    grids: gpd.GeoDataFrame,
    counts: Mapping[str, int],
    *,
    households: Mapping[str, int] | None = None,
    alpha: float = 0.05,
    permutations: int = 999,
    seed: int = 0,
) -> dict[str, Any]:
    """Getis-Ord Gi* hot and cold spots of the grids' incident counts, corrected for multiple testing.

    The statistic runs on counts per grid (or, with households, on incidents per 1,000 households,
    grids without households counting 0) over Queen contiguity (islands joined to their nearest grid),
    row-standardised, each grid its own neighbour. p_value is the permutation pseudo p-value, folded
    one-sided as esda 2.x computes it (conditional randomisation, seeded: the same answer every run);
    p_adjusted is its Benjamini-Hochberg false-discovery-rate adjustment over all grids. A grid is
    "hot" (z > 0) or "cold" (z < 0) when p_adjusted <= alpha, else "not significant". Each feature:
    grid_code, value, z, p_value, p_adjusted, significant, label.
    """
    from esda.getisord import G_Local
    from libpysal.weights import fill_diagonal

    value = _counts_of(grids, counts)
    if households is not None:
        homes = grids["grid_code"].map(households).to_numpy(dtype=float)
        value = per_1000_households_array(value, homes, fill=0.0)
    if len(grids) < MIN_HOT_SPOT_GRIDS:  # no neighbours to compare with (an area without grids, or with one)
        none = np.zeros(len(grids))
        columns = {"value": value, "z": none, "p_value": none + 1.0, "p_adjusted": none + 1.0,
                   "significant": none.astype(bool), "label": np.full(len(grids), "not significant")}
        return _features(grids, columns) | {"alpha": alpha, "permutations": permutations}
    weights = fill_diagonal(contiguity(grids), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant field gives 0/0 z-scores (none significant)
        warnings.simplefilter("ignore", DeprecationWarning)  # esda's notice about its future two-sided default
        gi = G_Local(value, weights, transform="R", star=True, permutations=permutations, seed=seed, n_jobs=1,
                     keep_simulations=False)
    z = np.nan_to_num(np.asarray(gi.Zs, dtype=float))
    p_value = np.asarray(gi.p_sim, dtype=float)
    p_adjusted = false_discovery_control(p_value, method="bh")
    significant = p_adjusted <= alpha
    label = np.where(significant & (z > 0), "hot", np.where(significant & (z < 0), "cold", "not significant"))
    columns = {"value": value, "z": z, "p_value": p_value, "p_adjusted": p_adjusted, "significant": significant,
               "label": label}
    return _features(grids, columns) | {"alpha": alpha, "permutations": permutations}
