"""Export a plan version's grids and assignments as GeoPackage, GeoJSON, zipped Shapefile or KML.

Every format carries the plan file schema of geogrid.partition.plan_file (the same as `geogrid partition`'s
GeoPackage), with community and street names in Chinese. Shapefile (dBase) cuts text at 254 bytes and names
at 10 characters: its grids keep flag_count and flag_rules (the rule names) and the whole flags go to the
sidecar table grid_flags.csv (one row per flag, its full JSON), keyed by grid_code; FIELDS.txt in the zip
lists every shortened field name.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid.db.models import SRID, Building, Community, PlanVersion, Street, VillagerGroup
from geogrid.errors import InputError
from geogrid.geo.io import write_csv
from geogrid.partition.plan_file import AREA_FIELDS, grids_layer
from geogrid.partition.plan_file import assignments_layer as plan_assignments_layer
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
# Shapefile (dBase) field names are at most 10 characters: plan file name -> Shapefile name.
SHAPEFILE_NAMES = {
    "community_code": "comm_code",
    "community_name": "comm_name",
    "street_code": "strt_code",
    "street_name": "strt_name",
    "plan_version": "plan_ver",
    "households": "households",
    "population": "population",
    "building_count": "bldg_count",
    "compactness": "compact",
    "within_limits": "in_limits",
    "flag_count": "flag_count",
    "flags": "flag_rules",  # the rule names; the whole flags are in grid_flags.csv
    "villager_groups": "vlg_groups",
    "building_id": "bldg_id",
}
FLAGS_TABLE = "grid_flags.csv"  # the Shapefile export's sidecar: grid_code, n, rule, reason, flag (JSON)


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
        areas = _areas(session, plan.community_code)
        if areas["kind"].iloc[0] == "rural":
            grids["villager_groups"] = _villager_groups(session, plan.community_code, grids)
        return grids_layer(grids, areas, plan_version=plan.number)
    return assignments_layer(session, plan.id)


def _areas(session: Session, code: str) -> pd.DataFrame:
    """The community's code, name, street code and name, kind (one row)."""
    query = (select(Community.code, Community.name, Community.street_code, Street.name, Community.kind)
             .join(Street, Street.code == Community.street_code).where(Community.code == code))
    return pd.DataFrame(session.execute(query).all(), columns=AREA_FIELDS)


def _villager_groups(session: Session, code: str, grids: gpd.GeoDataFrame) -> list[str | None]:
    """Each village grid's villager group ids (comma-separated, as `geogrid partition` writes them): the groups
    whose representative point lies in the grid (a village grid is a union of whole groups)."""
    rows = session.execute(select(VillagerGroup.id, VillagerGroup.geom).where(VillagerGroup.community_code == code)
                           .order_by(VillagerGroup.id)).all()
    if not rows:
        return [None] * len(grids)
    points = gpd.GeoDataFrame({"group_id": [r.id for r in rows]},
                              geometry=shapely.point_on_surface([to_shape(r.geom) for r in rows]), crs=SRID)
    found = gpd.sjoin(points, grids[["grid_code", "geometry"]], predicate="within", how="inner")
    members = found.groupby("grid_code")["group_id"].agg(lambda ids: ",".join(sorted(ids)))
    return [members.get(c) for c in grids["grid_code"]]


def assignments_layer(session: Session, plan_id: int) -> gpd.GeoDataFrame:
    """Assignments with each building's footprint (empty if the building is gone), in the plan file schema."""
    plan = get_plan(session, plan_id)
    table = plan_assignments(session, plan_id)
    table["community_code"] = [plan.community_code if code else None for code in table["grid_code"]]
    footprints = _footprints(session, list(table["building_id"].unique()))
    series = gpd.GeoSeries(list(footprints.values()), index=list(footprints), crs=SRID)
    return plan_assignments_layer(table, series)


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
        if name == "grids":
            write_csv(flags_table(frame), folder / FLAGS_TABLE)
            frame = frame.assign(flags=[",".join(f["rule"] for f in json.loads(text)) for text in frame["flags"]])
        frame = frame.rename(columns=SHAPEFILE_NAMES)
        for column in frame.select_dtypes(bool).columns:
            frame[column] = frame[column].astype(int)
        pyogrio.write_dataframe(frame, folder / f"{name}.shp", driver="ESRI Shapefile", encoding="UTF-8")
    (folder / "FIELDS.txt").write_text(fields_note(frames), encoding="utf-8")
    buffer = io.BytesIO()  # every file of the folder: the layers' .shp/.shx/.dbf/.prj/.cpg, the flags, FIELDS.txt
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


def flags_table(grids: pd.DataFrame) -> pd.DataFrame:
    """One row per flag of every grid: grid_code, n (its place in the grid's list), rule, reason, flag (full JSON)."""
    rows = [(code, n, flag.get("rule"), flag.get("reason"), json.dumps(flag, ensure_ascii=False))
            for code, text in zip(grids["grid_code"], grids["flags"], strict=True)
            for n, flag in enumerate(json.loads(text), 1)]
    return pd.DataFrame(rows, columns=["grid_code", "n", "rule", "reason", "flag"])


def fields_note(frames: dict[str, gpd.GeoDataFrame]) -> str:
    """FIELDS.txt: each layer's Shapefile field names and the plan file names they stand for."""
    lines = ["Shapefile field -> plan file field (see geogrid's README, Exports)", ""]
    for name, frame in frames.items():
        lines.append(f"{name}.shp")
        lines += [f"  {SHAPEFILE_NAMES.get(c, c):<10} {c}" for c in frame.columns if c != frame.geometry.name]
        lines.append("")
    lines.append(f"{FLAGS_TABLE}: grid_code, n, rule, reason, flag - every flag of every grid in full (JSON), "
                 "UTF-8 with a BOM")
    return "\n".join(lines) + "\n"
