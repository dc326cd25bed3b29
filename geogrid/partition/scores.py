"""Scores of a partition: compactness, boundary along streets, exact tiling."""

from __future__ import annotations

import numpy as np
import shapely

STREET_TOLERANCE_M = 5.0


def polsby_popper(geoms: np.ndarray) -> np.ndarray:
    """4πA/P²: 1 for a circle, near 0 for a sliver."""
    perimeter = shapely.length(geoms)
    return np.where(perimeter > 0, 4 * np.pi * shapely.area(geoms) / np.maximum(perimeter, 1e-12) ** 2, 0.0)


def inner_boundary(grids: np.ndarray, community: shapely.Geometry) -> shapely.Geometry:
    """The lines that separate grids from each other (not the community's own edge)."""
    lines = shapely.union_all(shapely.boundary(grids))
    return shapely.difference(lines, shapely.buffer(shapely.boundary(community), 0.5))


def boundary_along_streets(inner: shapely.Geometry, roads: np.ndarray | None) -> float:
    """Length of the inner boundary within a few metres of a street."""
    if roads is None or len(roads) == 0 or inner.is_empty:
        return 0.0
    corridor = shapely.buffer(shapely.union_all(roads), STREET_TOLERANCE_M)
    return float(shapely.length(shapely.intersection(inner, corridor)))


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
    union = shapely.union_all(grids)
    gaps = shapely.area(shapely.difference(community, union))
    overlaps = float(shapely.area(grids).sum() - shapely.area(union))
    beyond = float(shapely.area(shapely.difference(union, community)))
    return float(gaps), max(overlaps, 0.0) + beyond
