"""Stored camera records: import (placed in their published grids), list, coverage per grid, nearest to a point."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geogrid.cameras import layer, views
from geogrid.db.models import SRID, Camera
from geogrid.geo.crs import metric_crs
from geogrid.store import audit, placement
from geogrid.store.plans import published_grids
from geogrid.store.spatial import Scope, box_around, near_bbox

DEFAULT_RADIUS_M = 50.0  # what a camera with no heading is taken to see
MAX_REACH_M = 500.0  # no camera's view is taken to reach further (bounds the search around an area)


def import_cameras(session: Session, cameras: gpd.GeoDataFrame, username: str) -> dict[str, int]:
    """Validate and store cameras (WGS-84 GeoDataFrame), each placed in its published grid; an id already
    stored is replaced. All or nothing: a bad row raises InputError and nothing is written."""
    cameras = layer.validate_cameras(cameras)
    grids = placement.layout(session).index
    placed = views.place_cameras(cameras, grids)
    community = dict(zip(grids.grids["grid_code"], grids.grids["community_code"], strict=True))
    ids = placed["camera_id"].astype(str).tolist()
    replaced = session.scalars(select(Camera.id).where(Camera.id.in_(ids))).all()
    session.execute(delete(Camera).where(Camera.id.in_(ids)))
    session.add_all(
        Camera(
            id=str(row.camera_id),
            name=_text(row.name) if "name" in placed.columns else None,
            heading=_number(row.heading),
            fov=_number(row.fov),
            range_m=_number(row.range_m),
            grid_code=_text(row.grid_code),
            community_code=community.get(_text(row.grid_code)),
            geom=from_shape(row.geometry, srid=SRID),
        )
        for row in placed.itertuples()
    )
    session.flush()
    placed_count = int(placed["grid_code"].notna().sum())
    summary = {"cameras": len(placed), "replaced": len(replaced), "in_grids": placed_count,
               "outside_grids": len(placed) - placed_count}
    audit.record(session, username, "import", "cameras", f"{len(placed)} cameras", after=summary)
    return summary


def outside_scope(session: Session, cameras: gpd.GeoDataFrame, scope: str) -> list[str]:
    """Ids of the cameras that fall in no published grid inside scope (an area code)."""
    placed = views.place_cameras(cameras, published_grids(session, scope))
    return placed.loc[placed["grid_code"].isna(), "camera_id"].astype(str).tolist()


def _number(value: Any) -> float | None:
    """A float, or None for NaN and missing."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


def _text(value: Any) -> str | None:
    """Text, or None for NaN and missing."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def cameras_frame(session: Session, condition: Any = None) -> gpd.GeoDataFrame:
    """Stored cameras (matching condition) as a GeoDataFrame in camera id order."""
    query = select(Camera).order_by(Camera.id)
    if condition is not None:
        query = query.where(condition)
    rows = session.scalars(query).all()
    frame = pd.DataFrame(
        {
            "camera_id": [c.id for c in rows],
            "name": [c.name for c in rows],
            "heading": [c.heading for c in rows],
            "fov": [c.fov for c in rows],
            "range_m": [c.range_m for c in rows],
            "grid_code": [c.grid_code for c in rows],
            "community_code": [c.community_code for c in rows],
        }
    )
    for column in ("heading", "fov", "range_m"):
        frame[column] = frame[column].astype(float)
    return gpd.GeoDataFrame(frame, geometry=[to_shape(c.geom) for c in rows], crs=SRID)


def visible_cameras(scope: Scope) -> Any:
    """Cameras a map scope may see: in its area, or in its one grid."""
    if scope.grid is not None:
        return Camera.grid_code == scope.grid
    return scope.communities(Camera.community_code)


def cameras_in_box(session: Session, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Cameras whose point lies in the lon/lat box, through the spatial index."""
    return cameras_frame(session, near_bbox(session, Camera, bbox))  # type: ignore[arg-type]


def coverage(session: Session, area: str, default_radius_m: float = DEFAULT_RADIUS_M) -> pd.DataFrame:
    """Per published grid in area: camera_count, covered_m2, area_m2 and covered_share, counting every camera
    whose view reaches into the grid (also cameras standing outside it)."""
    grids = published_grids(session, area)
    if grids.empty:
        return pd.DataFrame(columns=["grid_code", "camera_count", "covered_m2", "area_m2", "covered_share"])
    nearby = cameras_in_box(session, box_around(grids.total_bounds, MAX_REACH_M))
    if nearby.empty:
        out = grids[["grid_code"]].copy()
        out["camera_count"], out["covered_m2"], out["covered_share"] = 0, 0.0, 0.0
        out["area_m2"] = grids.to_crs(metric_crs(grids)).area.to_numpy()
        return out[["grid_code", "camera_count", "covered_m2", "area_m2", "covered_share"]]
    return views.coverage_by_grid(grids[["grid_code", "geometry"]], nearby, default_radius_m)


def cameras_near_grid(session: Session, grid_code: str, near_m: float) -> gpd.GeoDataFrame:
    """Cameras in the published grid or within near_m metres of it, with their distance_m (0 inside)."""
    grids = published_grids(session, grid_code)
    grids = grids[grids["grid_code"] == grid_code]
    if grids.empty:
        return cameras_frame(session, visible_cameras(Scope(grid=grid_code)))
    frame = cameras_in_box(session, box_around(grids.total_bounds, near_m))
    crs = metric_crs(grids)
    distance = frame.to_crs(crs).distance(grids.to_crs(crs).geometry.iloc[0]).round(1)
    frame = frame.assign(distance_m=distance.to_numpy())
    return frame[(frame["grid_code"] == grid_code) | (frame["distance_m"] <= near_m)]


def cameras_near(
    session: Session, lon: float, lat: float, radius_m: float = 200.0, limit: int = 10
) -> list[dict[str, Any]]:
    """Cameras within radius_m of the point, nearest first, each saying whether its view covers the point."""
    nearby = cameras_in_box(session, box_around((lon, lat, lon, lat), radius_m))
    if nearby.empty:
        return []
    found = views.nearest_cameras(nearby, lon, lat, radius_m=radius_m, limit=limit,
                                            default_radius_m=DEFAULT_RADIUS_M)
    grid_of = dict(zip(nearby["camera_id"], nearby["grid_code"], strict=True))
    point_of = {cid: (g.x, g.y) for cid, g in zip(nearby["camera_id"], nearby.geometry, strict=True)}
    return [c | {"grid_code": grid_of.get(c["camera_id"]), "lon": point_of[c["camera_id"]][0],
                 "lat": point_of[c["camera_id"]][1]} for c in plain_rows(found)]


def plain_rows(rows: Any) -> list[dict[str, Any]]:
    """Rows as plain dicts with None for NaN."""
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in records]


def cameras_geojson(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """Cameras as a GeoJSON FeatureCollection."""
    features = []
    for record, geom in zip(plain_rows(frame.drop(columns="geometry")), frame.geometry, strict=True):
        features.append({"type": "Feature", "id": record["camera_id"], "properties": record,
                         "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": features}
