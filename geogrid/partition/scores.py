"""Scores of a partition: compactness, boundary along streets, exact tiling (gaps, overlaps, area outside)."""

from __future__ import annotations

import numpy as np
import shapely

STREET_TOLERANCE_M = 5.0


def polsby_popper(geoms: np.ndarray) -> np.ndarray:
    """4πA/P²: 1 for a circle, near 0 for a sliver."""
    perimeter = shapely.length(geoms)
    return np.where(perimeter > 0, 4 * np.pi * shapely.area(geoms) / np.maximum(perimeter, 1e-12) ** 2, 0.0)


def compactness(geoms: np.ndarray) -> np.ndarray:
    """A grid's compactness as plans store it: Polsby-Popper, to 4 decimals."""
    return np.round(polsby_popper(geoms), 4)


def inner_boundary(grids: np.ndarray, community: shapely.Geometry) -> shapely.Geometry:
    """The lines that separate grids from each other (not the community's own edge)."""
    lines = shapely.union_all(shapely.boundary(grids))
    return shapely.difference(lines, shapely.buffer(shapely.boundary(community), 0.5))


def tiling_pieces(grids: np.ndarray, community: shapely.Geometry) -> dict[str, shapely.Geometry]:
    """Where grids (in a metric CRS) fail to tile their community: the community's area in no grid
    (gap), area in more than one grid (overlap) and grid area beyond the community (outside_community)."""
    union = shapely.union_all(grids)
    return {
        "gap": shapely.difference(community, union),
        "overlap": overlap(grids),
        "outside_community": shapely.difference(union, community),
    }


def overlap(grids: np.ndarray) -> shapely.Geometry:
    """The area that lies in more than one of the grids."""
    tree = shapely.STRtree(grids)
    i, j = tree.query(grids, predicate="intersects")
    keep = i < j
    return shapely.union_all(shapely.intersection(grids[i[keep]], grids[j[keep]]))


def boundary_by_class(inner: shapely.Geometry, roads: np.ndarray | None, classes: np.ndarray | None,
                      order: tuple[str, ...]) -> dict[str, float]:
    """Length of the inner boundary within a few metres of a street of each class; a stretch near
    streets of several classes counts for the first of them in ``order``."""
    lengths = dict.fromkeys(order, 0.0)
    if roads is None or len(roads) == 0 or inner.is_empty:
        return lengths
    rest = inner
    for kind in order:
        lines = roads[classes == kind]
        if len(lines) == 0 or rest.is_empty:
            continue
        corridor = shapely.buffer(shapely.union_all(lines), STREET_TOLERANCE_M)
        lengths[kind] = float(shapely.length(shapely.intersection(rest, corridor)))
        rest = shapely.difference(rest, corridor)
    return lengths


def tiling_error(grids: np.ndarray, community: shapely.Geometry) -> tuple[float, float]:
    """Area (m²) of gaps, and of overlaps between grids or beyond the community (on its neighbours)."""
    pieces = tiling_pieces(grids, community)
    overlaps = shapely.area(pieces["overlap"]) + shapely.area(pieces["outside_community"])
    return float(shapely.area(pieces["gap"])), float(overlaps)
