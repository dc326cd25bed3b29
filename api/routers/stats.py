"""What leaders look at: case statistics per area and week, and density per grid, per H3 cell, as heat and hot spots."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query

from api.deps import Principal, SessionDep, require_role
from api.params import WindowDep
from geogrid import access
from geogrid.incidents import density
from geogrid.store import stats
from geogrid.store.plans import published_grids

router = APIRouter(prefix="/api/v1", tags=["Statistics"])
Viewer = Annotated[Principal, Depends(require_role(*access.STATISTICS_VIEWERS))]
LEVELS = ("district", "street", "community", "grid")
MAX_HEAT_POINTS = 8_000  # a heat layer looks the same with fewer, coarser cells, and weighs less




@router.get("/stats/areas", summary="Closure statistics per area")
def area_statistics(
    user: Viewer, session: SessionDep, window: WindowDep,
    level: str = Query("street", pattern="^(district|street|community|grid)$"),
) -> dict[str, Any]:
    """Per area at `level` inside the area: count, closed, closure rate, overdue (split into `overdue_open`:
    open and past a deadline, and `closed_late`: closed but late at some step), median hours to close,
    households and cases per 1,000 households. Areas with no case are listed too."""
    rows = stats.area_stats(session, level, **window.args(user))
    return {"level": level, "area": window.scoped(user), "rows": rows}


@router.get("/stats/trend", summary="Cases per week")
def weekly_trend(user: Viewer, session: SessionDep, window: WindowDep) -> dict[str, Any]:
    """Reported and closed cases per week (weeks start on Monday, China time)."""
    return {"area": window.scoped(user), "weeks": stats.weekly_trend(session, **window.args(user))}


@router.get("/density/areas", summary="Cases per area as GeoJSON (a choropleth)")
def area_density(
    user: Viewer, session: SessionDep, window: WindowDep,
    level: str = Query("grid", pattern="^(street|community|grid)$"),
) -> dict[str, Any]:
    """Each area at `level` as a polygon with its count and cases per 1,000 households."""
    rows = {r["code"]: r for r in stats.area_stats(session, level, **window.args(user))}
    if level == "grid":
        grids = published_grids(session, window.scoped(user))
        shapes = zip(grids["grid_code"], grids.geometry, strict=True)
    else:
        shapes = stats.outlines(session, level, list(rows))
    features = []
    for code, geom in shapes:
        row = rows.get(code, {"code": code, "count": 0, "per_1000_households": 0.0})
        features.append({"type": "Feature", "id": code, "geometry": _for_display(geom, level), "properties": row})
    return {"type": "FeatureCollection", "level": level, "features": features}


# --- leader page (issue 5): street and community outlines from their own tables, lightened for display ---------
# Dissolving every published grid per street took 3.6 s and sent 2.8 MB for 10 streets (8,000 grids of ~40
# vertices); the outlines of the streets and communities are in the hierarchy's tables already.
DISPLAY_TOLERANCE = {"street": 5e-5, "community": 2e-5, "grid": 0.0}  # degrees: about 5 m and 2 m


def _for_display(geom: Any, level: str) -> dict[str, Any]:
    """GeoJSON geometry simplified for the level's scale (topology kept) with coordinates to 6 decimals (0.1 m)."""
    tolerance = DISPLAY_TOLERANCE[level]
    if tolerance:
        geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    return shapely.geometry.mapping(shapely.transform(geom, lambda xy: np.round(xy, 6)))


@router.get("/density/h3", summary="Cases per H3 cell as GeoJSON")
def h3_cells(
    user: Viewer, session: SessionDep, window: WindowDep,
    zoom: int = Query(14, ge=0, le=22, description="The map's zoom: it chooses the H3 resolution"),
    resolution: int | None = Query(None, ge=0, le=15, description="Overrides the zoom's resolution"),
) -> dict[str, Any]:
    """Counts per H3 cell at the resolution that suits the zoom."""
    chosen = resolution if resolution is not None else density.h3_resolution_for_zoom(zoom)
    return density.cell_density(stats.cells(session, chosen, **window.args(user)), chosen)


@router.get("/density/heat", summary="Aggregated heat-map points")
def heat(
    user: Viewer, session: SessionDep, window: WindowDep,
    zoom: int = Query(14, ge=0, le=22),
) -> dict[str, Any]:
    """[lat, lon, count] per H3 cell (finer at higher zoom, at most 8,000 cells), for a heat layer."""
    resolution = min(density.h3_resolution_for_zoom(zoom) + 1, 15)
    cells, counts = density.cell_counts(stats.cells(session, resolution, **window.args(user)))
    while len(cells) > MAX_HEAT_POINTS and resolution > 0:
        resolution -= 1
        cells, counts = density.cell_counts(stats.cells(session, resolution, **window.args(user)))
    centres = density.cell_centres(cells).round(6)
    points = [[lat, lon, int(n)] for (lat, lon), n in zip(centres.tolist(), counts.tolist(), strict=True)]
    return {"resolution": resolution, "total": int(counts.sum()), "max": int(counts.max()) if len(counts) else 0,
            "points": points}


@router.get("/density/hotspots", summary="Hot and cold spots over grids (Getis-Ord Gi*, FDR)")
def hot_spots(
    user: Viewer, session: SessionDep, window: WindowDep,
    alpha: float = Query(0.05, gt=0, lt=0.5),
) -> dict[str, Any]:
    """Each grid with its Gi* z-score and p-value, labelled hot, cold or not significant after a
    false-discovery-rate correction."""
    grids = published_grids(session, window.scoped(user))
    counts = stats.grid_counts(session, **window.args(user))
    return density.hot_spots(grids, counts, alpha=alpha)
