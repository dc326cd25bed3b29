"""Export a plan version's grids and assignments as GeoPackage, GeoJSON, zipped Shapefile or KML."""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.db.models import SRID, Building, PlanVersion
from geogrid.errors import InputError
from geogrid.store.plans import CHUNK, get_plan, plan_assignments, plan_grids


@dataclass(frozen=True)
class Format:
    """An export format: its GDAL driver, media type, file suffix and layer capacity."""

    driver: str
    media_type: str
    suffix: str
    multilayer: bool


FORMATS: dict[str, Format] = {
    "gpkg": Format("GPKG", "application/geopackage+sqlite3", ".gpkg", True),
    "geojson": Format("GeoJSON", "application/geo+json", ".geojson", False),
    "shp": Format("ESRI Shapefile", "application/zip", ".zip", True),
    "kml": Format("KML", "application/vnd.google-earth.kml+xml", ".kml", False),
}
LAYERS = ("grids", "assignments")
# Shapefile (dBase) field names are at most 10 characters.
SHAPEFILE_NAMES = {
    "community_code": "community",
    "plan_version": "plan_ver",
    "building_count": "bldg_count",
    "compactness": "compact",
    "within_limits": "in_limits",
    "building_id": "bldg_id",
}


@dataclass(frozen=True)
class Export:
    """An exported file, ready to send."""

    content: bytes
    media_type: str
    filename: str


def export_plan(session: Session, plan_id: int, fmt: str, layer: str | None = None) -> Export:
    """The plan version in format fmt (gpkg, geojson, shp, kml).

    GeoPackage and zipped Shapefile hold both layers, grids and assignments (each building's
    footprint with its grid); GeoJSON and KML hold one, `layer` (default grids).
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    if layer is not None and layer not in LAYERS:
        raise InputError(f"unknown export layer {layer!r}; use {', '.join(LAYERS)}")
    spec = FORMATS[fmt]
    plan = get_plan(session, plan_id)
    wanted = [layer] if layer else (list(LAYERS) if spec.multilayer else ["grids"])
    frames = {name: _layer(session, plan, name) for name in wanted}
    stem = f"{plan.community_code}-v{plan.number}" + (f"-{layer}" if layer else "")
    return Export(_write(frames, spec), spec.media_type, stem + spec.suffix)


def _layer(session: Session, plan: PlanVersion, name: str) -> gpd.GeoDataFrame:
    if name == "grids":
        grids = plan_grids(session, plan.id)
        grids.insert(1, "community_code", plan.community_code)
        grids.insert(2, "plan_version", plan.number)
        return grids
    return assignments_layer(session, plan.id)


def assignments_layer(session: Session, plan_id: int) -> gpd.GeoDataFrame:
    """Assignments with each building's footprint (empty if the building is gone)."""
    table = plan_assignments(session, plan_id)
    footprints = _footprints(session, list(table["building_id"].unique()))
    geometry = [footprints.get(b) for b in table["building_id"]]
    return gpd.GeoDataFrame(table, geometry=geometry, crs=SRID)


def _footprints(session: Session, ids: list[str]) -> dict[str, object]:
    found: dict[str, object] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(Building.id, Building.geom).where(Building.id.in_(ids[start : start + CHUNK]))
        found.update({bid: to_shape(geom) for bid, geom in session.execute(query)})
    return found


def _write(frames: dict[str, gpd.GeoDataFrame], spec: Format) -> bytes:
    """Write the layers with GDAL in a scratch directory and return the file's bytes."""
    with tempfile.TemporaryDirectory(prefix="geogrid-export-") as scratch:
        folder = Path(scratch)
        if spec.driver == "ESRI Shapefile":
            return _zipped_shapefiles(frames, folder)
        target = folder / f"export{spec.suffix}"
        for index, (name, frame) in enumerate(frames.items()):
            _write_layer(frame, target, name, spec.driver, append=index > 0)
        return target.read_bytes()


def _write_layer(frame: gpd.GeoDataFrame, target: Path, name: str, driver: str, append: bool) -> None:
    options: dict[str, object] = {}
    if driver == "KML":
        options["dataset_options"] = {"NameField": "grid_code" if name == "grids" else "building_id"}
    if driver == "GeoJSON":
        options["layer_options"] = {"RFC7946": "YES"}
    pyogrio.write_dataframe(frame, target, layer=name, driver=driver, append=append, **options)


def _zipped_shapefiles(frames: dict[str, gpd.GeoDataFrame], folder: Path) -> bytes:
    for name, frame in frames.items():
        frame = frame.rename(columns=SHAPEFILE_NAMES)
        for column in frame.select_dtypes(bool).columns:
            frame[column] = frame[column].astype(int)
        pyogrio.write_dataframe(frame, folder / f"{name}.shp", driver="ESRI Shapefile", encoding="UTF-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()
