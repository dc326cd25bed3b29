"""Fixed precision in metres: equivalent inputs (any input CRS) give identical metric geometry and positions."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

SNAP_M = 0.001  # footprints are snapped to this grid (metres) before the tessellation
POSITION_M = 0.1  # cell positions (for sweeps and tie-breaks) are rounded to this grid


def snap_geometries(geoms: NDArray[np.object_], grid: float = SNAP_M) -> NDArray[np.object_]:
    """Geometries with every coordinate snapped to ``grid`` metres (valid output, GEOS snap-rounding).

    Inputs that differ by floating-point noise after reprojection (nanometres) come out identical,
    so everything computed from them is too. A geometry that snapping would collapse (a footprint
    narrower than the grid) is kept as it was.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    snapped = geoms.copy()
    snapped[present] = shapely.set_precision(geoms[present], grid)
    lower = shapely.get_dimensions(snapped) < shapely.get_dimensions(geoms)
    collapsed = present & (shapely.is_empty(snapped) | lower)
    snapped[collapsed] = geoms[collapsed]
    return snapped


def grid_positions(points: NDArray[np.float64], grid: float = POSITION_M) -> NDArray[np.int64]:
    """Points (n, 2) in metres as integer multiples of ``grid``: exact values to sort and compare."""
    return np.rint(np.asarray(points, dtype=float) / grid).astype(np.int64)


def cell_positions(cells: NDArray[np.object_], grid: float = POSITION_M) -> NDArray[np.float64]:
    """Each cell's centroid rounded to ``grid`` metres.

    The centroid moves continuously with the geometry; ``point_on_surface`` does not (it jumped
    23 m after a change of 2e-9 m), and the heuristics branch on these positions.
    """
    return grid_positions(shapely.get_coordinates(shapely.centroid(cells)), grid) * grid
