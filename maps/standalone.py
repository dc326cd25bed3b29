"""One self-contained HTML map of grids, incidents (heat map) and cameras that opens offline from a file."""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import folium
import geopandas as gpd
import h3
import numpy as np
import shapely
from branca.element import Element
from folium.plugins import HeatMap

from geogrid.errors import InputError
from geogrid.geo.io import read_layer
from maps.assets import ICON_AND_BOOTSTRAP_ASSETS, render_page
from maps.i18n import DEFAULT_LANG, check_lang, t

MAX_HEAT_POINTS = 20_000
H3_FINEST_RES = 11  # cells of about 25 m across: finer than a heat map shows
COORD_DECIMALS = 6  # about 0.1 m
GRID_CODE_COLUMNS = ("grid_code", "code")
GRID_FIELDS = ("grid_code", "name", "community_code", "households", "population")
CAMERA_FIELDS = ("camera_id", "name")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
CAMERA_COLOR = "#0b3d91"
HEAT_GRADIENT = {0.4: "blue", 0.6: "cyan", 0.7: "lime", 0.8: "yellow", 1.0: "red"}


def build_standalone_map(grids_gdf: gpd.GeoDataFrame, incidents_gdf: gpd.GeoDataFrame | None = None,
                         cameras_gdf: gpd.GeoDataFrame | None = None, lang: str = DEFAULT_LANG) -> str:
    """The HTML of one page, every script and style inlined and no base-map tiles, showing the layers given."""
    check_lang(lang)
    grids = _grid_frame(grids_gdf)
    m = folium.Map(tiles=None, control_scale=True)
    m.get_root().title = t("map_title", lang)
    _add_grids(m, grids, lang)
    n_incidents = _add_heat(m, incidents_gdf, lang) if incidents_gdf is not None else None
    n_cameras = _add_cameras(m, cameras_gdf, lang) if cameras_gdf is not None else None
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(Element(_legend_html(len(grids), n_incidents, n_cameras, lang)))
    minx, miny, maxx, maxy = grids.total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    page = render_page(m, inline=True, omit=ICON_AND_BOOTSTRAP_ASSETS)
    return page.replace("<html>", f'<html lang="{"zh-CN" if lang == "zh" else "en"}">', 1)


def write_standalone_map(grids_path: str | Path, out_path: str | Path, incidents_path: str | Path | None = None,
                         cameras_path: str | Path | None = None, lang: str = DEFAULT_LANG) -> Path:
    """Read the layers' files (any format geogrid reads) and write the standalone map to `out_path` atomically."""
    check_lang(lang)
    out = Path(out_path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out must be an HTML file ending in .html, not {out.name}")
    grids = read_layer(grids_path, name="grids", layer=_grids_layer(Path(grids_path)))
    incidents = read_layer(incidents_path, name="incidents") if incidents_path else None
    cameras = read_layer(cameras_path, name="cameras") if cameras_path else None
    _write_atomically(out, build_standalone_map(grids, incidents, cameras, lang=lang))
    return out


def _grids_layer(path: Path) -> str | None:
    """The `grids` layer of a GeoPackage that has one (as `geogrid partition` writes), else None (the only layer)."""
    if path.suffix.lower() != ".gpkg" or not path.exists():
        return None
    import pyogrio

    names = {str(row[0]) for row in pyogrio.list_layers(path)}
    return "grids" if "grids" in names and len(names) > 1 else None


def heat_points(points: gpd.GeoDataFrame, cap: int = MAX_HEAT_POINTS) -> list[list[float]]:
    """[lat, lon, count] per H3 cell holding points, at the finest resolution (at most 11) giving at most `cap` cells."""
    cells = Counter(h3.latlng_to_cell(lat, lon, H3_FINEST_RES) for lon, lat in _point_coords(points))
    res = H3_FINEST_RES
    while len(cells) > cap and res > 0:
        res -= 1
        coarser: Counter[str] = Counter()
        for cell, count in cells.items():
            coarser[h3.cell_to_parent(cell, res)] += count
        cells = coarser
    return [[round(lat, 5), round(lon, 5), count]
            for cell, count in sorted(cells.items()) for lat, lon in [h3.cell_to_latlng(cell)]]


def color_apart(geoms: gpd.GeoSeries, palette_size: int = len(PALETTE)) -> list[int]:
    """A palette index per geometry such that touching geometries differ (greedy, busiest first)."""
    tree = shapely.STRtree(geoms.values)
    left, right = tree.query(geoms.values, predicate="dwithin", distance=1e-6)
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(geoms))}
    for a, b in zip(left.tolist(), right.tolist()):
        if a != b:
            neighbours[a].add(b)
    colors: dict[int, int] = {}
    for i in sorted(neighbours, key=lambda k: -len(neighbours[k])):
        used = {colors[j] for j in neighbours[i] if j in colors}
        colors[i] = next((c for c in range(palette_size) if c not in used), i % palette_size)
    return [colors[i] for i in range(len(geoms))]


def _grid_frame(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The grids in WGS-84 with a grid_code column and only polygons, or InputError."""
    grids = _wgs84(grids)
    code = next((c for c in GRID_CODE_COLUMNS if c in grids.columns), None)
    if code is None:
        raise InputError(f"grids: no grid code column ({' or '.join(GRID_CODE_COLUMNS)}); "
                         f"the columns are {', '.join(map(str, grids.columns))}")
    grids = grids[~(grids.geometry.isna() | grids.geometry.is_empty)].rename(columns={code: "grid_code"})
    if grids.empty:
        raise InputError("grids: no feature has a geometry")
    bad = ~grids.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        raise InputError(f"grids: {int(bad.sum())} features are not polygons (e.g. {grids.geom_type[bad].iloc[0]})")
    return grids.reset_index(drop=True)


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in EPSG:4326 (a frame without a CRS is taken to be in it already)."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError("expected a GeoDataFrame of features")
    if gdf.crs is None or gdf.crs.to_epsg() == 4326:
        return gdf
    return gdf.to_crs(4326)


def _add_grids(m: folium.Map, grids: gpd.GeoDataFrame, lang: str) -> None:
    """Grid polygons, coloured apart, with a tooltip and a popup of their code and counts."""
    fields = [f for f in GRID_FIELDS if f in grids.columns]
    colors = [PALETTE[i] for i in color_apart(grids.geometry)]
    data = _feature_collection(grids, fields, extra={"_color": colors})
    aliases = [t(f, lang) for f in fields]
    folium.GeoJson(
        data, name=t("grids", lang),
        style_function=lambda f: {"fillColor": f["properties"]["_color"], "color": "#333333", "weight": 1,
                                  "fillOpacity": 0.35},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, localize=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=True),
    ).add_to(m)


def _add_heat(m: folium.Map, incidents: gpd.GeoDataFrame, lang: str) -> int:
    """Incidents as a heat map of counts per H3 cell; returns how many incidents it shows."""
    points = heat_points(_wgs84(incidents))
    if points:
        HeatMap(points, name=t("incident_heat", lang), radius=14, blur=12, min_opacity=0.3,
                gradient=HEAT_GRADIENT).add_to(m)
    return int(sum(p[2] for p in points))


def _add_cameras(m: folium.Map, cameras: gpd.GeoDataFrame, lang: str) -> int:
    """Cameras as small circle markers with their id and name; returns how many."""
    cameras = _wgs84(cameras)
    cameras = cameras[~(cameras.geometry.isna() | cameras.geometry.is_empty)]
    cameras = cameras.set_geometry(cameras.geometry.representative_point())
    if cameras.empty:
        return 0
    fields = [f for f in CAMERA_FIELDS if f in cameras.columns]
    folium.GeoJson(
        _feature_collection(cameras, fields), name=t("cameras", lang),
        marker=folium.CircleMarker(radius=3, color=CAMERA_COLOR, weight=1, fill=True, fill_color=CAMERA_COLOR,
                                   fill_opacity=0.9),
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[t(f, lang) for f in fields]) if fields else None,
    ).add_to(m)
    return len(cameras)


def _feature_collection(gdf: gpd.GeoDataFrame, fields: list[str], extra: dict[str, list] | None = None) -> dict:
    """A GeoJSON FeatureCollection of the given fields, coordinates rounded to COORD_DECIMALS."""
    geoms = shapely.transform(gdf.geometry.values, lambda xy: np.round(xy, COORD_DECIMALS))
    rows = gdf[fields].astype(object).where(gdf[fields].notna(), None).to_dict("records")
    features = []
    for i, (geom, row) in enumerate(zip(geoms, rows)):
        props = {k: _plain(v) for k, v in row.items()}
        props.update({k: v[i] for k, v in (extra or {}).items()})
        features.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": features}


def _plain(value: object) -> object:
    """A JSON-friendly value: numpy numbers to Python numbers, whole floats to ints, other objects to text."""
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def _point_coords(points: gpd.GeoDataFrame) -> np.ndarray:
    """Lon/lat of each feature (a representative point for lines and polygons), skipping empty geometries."""
    geoms = points.geometry[~(points.geometry.isna() | points.geometry.is_empty)]
    if geoms.empty:
        return np.empty((0, 2))
    xy = shapely.get_coordinates(geoms.representative_point().values)
    return xy[np.isfinite(xy).all(axis=1)]


def _legend_html(n_grids: int, n_incidents: int | None, n_cameras: int | None, lang: str) -> str:
    """A fixed legend box: grid colours, the heat gradient and the camera dot, with counts."""
    swatches = "".join(f'<i style="display:inline-block;width:10px;height:10px;background:{c};opacity:.6;'
                       f'border:1px solid #333;margin-right:1px"></i>' for c in PALETTE[:5])
    rows = [f"<div>{swatches} {html.escape(t('grids', lang))} ({n_grids:,})</div>"]
    if n_incidents is not None:
        bar = ", ".join(f"{color} {int(stop * 100)}%" for stop, color in sorted(HEAT_GRADIENT.items()))
        rows.append(f'<div>{html.escape(t("heat_low", lang))} <i style="display:inline-block;width:70px;height:10px;'
                    f'background:linear-gradient(to right, {bar})"></i> {html.escape(t("heat_high", lang))} '
                    f'{html.escape(t("incident_heat", lang))} ({n_incidents:,})</div>')
    if n_cameras is not None:
        rows.append(f'<div><i style="display:inline-block;width:8px;height:8px;border-radius:50%;'
                    f'background:{CAMERA_COLOR}"></i> {html.escape(t("cameras", lang))} ({n_cameras:,})</div>')
    return ('<div class="geogrid-legend" style="position:fixed;bottom:28px;right:10px;z-index:1000;background:#fff;'
            'padding:6px 10px;border-radius:4px;box-shadow:0 1px 5px rgba(0,0,0,.4);font:12px/1.6 sans-serif">'
            f"<b>{html.escape(t('legend', lang))}</b>{''.join(rows)}</div>")


def _write_atomically(path: Path, text: str) -> None:
    """Write text next to `path` and rename it into place, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a map is for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
