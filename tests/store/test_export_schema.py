"""Every export format opened by GDAL with its fields checked: one schema with `geogrid partition`'s GeoPackage,
Chinese names, flags kept whole in Shapefile exports, CSV for Excel (UTF-8 with a BOM)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from geogrid.db.session import session_scope
from geogrid.geo.locate import write_located
from geogrid.partition.plan_file import ASSIGNMENT_FIELDS, GRID_FIELDS
from geogrid.partition.rules import Rules
from geogrid.store.exports import FLAGS_TABLE, SHAPEFILE_NAMES, export_plan
from geogrid.store.partitioning import partition_and_save
from geogrid.store.plans import plan_grids

URBAN, RURAL = "360702001001", "360702002001"
BOM = b"\xef\xbb\xbf"
# rules the tiny district cannot meet, so that grids carry several flags with their reasons
STRICT = Rules(min_households=200, max_households=260, max_population=600, rural_target_population=40,
               rural_tolerance=0.1)


@pytest.fixture
def plans(loaded: Engine) -> dict[str, int]:
    with session_scope(loaded) as session:
        saved = partition_and_save(session, [URBAN, RURAL], STRICT, "planner1", publish_plans=True)
    return {plan.community_code: plan.plan_id for plan in saved}


def _export(engine: Engine, plan_id: int, fmt: str, tmp_path: Path, layer: str | None = None) -> Path:
    with session_scope(engine) as session:
        export = export_plan(session, plan_id, fmt, layer)
    path = tmp_path / export.filename
    path.write_bytes(export.content)
    return path


def _as_list(value: object) -> list:
    return json.loads(value) if isinstance(value, str) else list(value)


def _ogr_fields(source: str, layer: str) -> list[str]:
    """The layer's field names as the GDAL command line (ogrinfo) reports them."""
    listing = subprocess.run(["ogrinfo", "-ro", "-so", "-nomd", source, layer], capture_output=True, text=True,
                             check=True).stdout
    fields = [line.split(":")[0] for line in listing.splitlines() if line and ": " in line and "(" in line
              and not line.startswith(("Layer", "Geometry", "Feature Count", "Extent", "Data axis", "FID", "INFO"))]
    return [f for f in fields if " " not in f]


@pytest.mark.parametrize("fmt", ["gpkg", "geojson"])
def test_geopackage_and_geojson_carry_the_plan_schema(loaded: Engine, plans: dict[str, int], fmt: str,
                                                      tmp_path: Path) -> None:
    path = _export(loaded, plans[RURAL], fmt, tmp_path)
    assert _ogr_fields(str(path), "grids") == GRID_FIELDS
    grids = pyogrio.read_dataframe(path, layer="grids")
    assert set(grids["community_name"]) == {"腊长村"} and set(grids["street_name"]) == {"水南镇"}
    assert set(grids["kind"]) == {"rural"} and set(grids["plan_version"]) == {1}
    assert set(grids.geometry.geom_type) == {"MultiPolygon"}
    groups = sorted(g for text in grids["villager_groups"] for g in text.split(","))
    assert groups == ["G1", "G2"]  # each village grid names its whole villager groups, each group once
    with session_scope(loaded) as session:
        stored = plan_grids(session, plans[RURAL]).set_index("grid_code")["flags"]
    flags = [_as_list(value) for value in grids["flags"]]  # GeoJSON writes them as a JSON array, GeoPackage as text
    assert dict(zip(grids["grid_code"], flags)) == {c: json.loads(t) for c, t in stored.items()}
    assert list(grids["flag_count"]) == [len(f) for f in flags]
    if fmt == "gpkg":
        assert _ogr_fields(str(path), "assignments") == ASSIGNMENT_FIELDS
        assignments = pyogrio.read_dataframe(path, layer="assignments")
        assert set(assignments["community_code"]) == {RURAL} and assignments.geometry.notna().all()


def test_shapefile_keeps_flags_whole_in_a_sidecar_table(loaded: Engine, plans: dict[str, int],
                                                        tmp_path: Path) -> None:
    path = _export(loaded, plans[URBAN], "shp", tmp_path)
    members = zipfile.ZipFile(path).namelist()
    assert {"grids.shp", "grids.dbf", "grids.cpg", "assignments.shp", FLAGS_TABLE, "FIELDS.txt"} <= set(members)
    source = f"/vsizip/{path}/grids.shp"
    assert _ogr_fields(source, "grids") == [SHAPEFILE_NAMES.get(f, f) for f in GRID_FIELDS]
    grids = pyogrio.read_dataframe(source)
    assert set(grids["comm_name"]) == {"和平社区"} and set(grids["strt_name"]) == {"解放街道"}
    with session_scope(loaded) as session:
        stored = plan_grids(session, plans[URBAN]).set_index("grid_code")["flags"].map(json.loads)
    assert max(len(json.dumps(f, ensure_ascii=False).encode()) for f in stored) > 254  # what dBase would cut
    assert dict(zip(grids["grid_code"], grids["flag_rules"])) == \
        {c: ",".join(f["rule"] for f in flags) for c, flags in stored.items()}
    raw = zipfile.ZipFile(path).read(FLAGS_TABLE)
    assert raw.startswith(BOM)
    sidecar = pyogrio.read_dataframe(f"/vsizip/{path}/{FLAGS_TABLE}")  # GDAL reads the sidecar too
    assert len(sidecar) == sum(len(f) for f in stored)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    whole = {}
    for row in rows:
        whole.setdefault(row["grid_code"], []).append((int(row["n"]), json.loads(row["flag"])))
    assert {c: [f for _, f in sorted(v)] for c, v in whole.items()} == {c: f for c, f in stored.items() if f}
    note = zipfile.ZipFile(path).read("FIELDS.txt").decode()
    assert "flag_rules" in note and "comm_name  community_name" in note


def test_kml_names_each_grid(loaded: Engine, plans: dict[str, int], tmp_path: Path) -> None:
    path = _export(loaded, plans[URBAN], "kml", tmp_path)
    grids = pyogrio.read_dataframe(path)
    with session_scope(loaded) as session:
        codes = sorted(plan_grids(session, plans[URBAN])["grid_code"])
    assert sorted(grids["Name"]) == codes
    fields = _ogr_fields(str(path), "grids")
    assert {"community_name", "street_name", "flags", "households"} <= set(fields)


def test_the_cli_geopackage_and_the_api_export_share_one_schema(
    loaded: Engine, plans: dict[str, int], layer_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "plan.gpkg"
    made = CliRunner().invoke(app, ["partition", "--communities", str(layer_files["communities"]),
                                    "--buildings", str(layer_files["buildings"]), "--roads", str(layer_files["roads"]),
                                    "--villager-groups", str(layer_files["villager_groups"]),
                                    "--streets", str(layer_files["streets"]), "--out", str(out)])
    assert made.exit_code == 0, made.output
    exported = _export(loaded, plans[URBAN], "gpkg", tmp_path)
    for layer in ("grids", "assignments"):
        cli_info, api_info = pyogrio.read_info(out, layer=layer), pyogrio.read_info(exported, layer=layer)
        assert list(cli_info["fields"]) == list(api_info["fields"]), layer
        assert list(cli_info["dtypes"]) == list(api_info["dtypes"]), layer
        assert cli_info["geometry_type"] == api_info["geometry_type"], layer
    grids = gpd.read_file(out, layer="grids")
    assert set(grids["street_name"]) == {"解放街道", "水南镇"} and set(grids["community_name"]) == {"和平社区", "腊长村"}


def test_csv_for_excel_has_a_bom(tmp_path: Path) -> None:
    points = gpd.GeoDataFrame({"case": ["一"], "grid_code": ["360702-001-001-01"], "located": [True],
                               "suggestions": [[]]}, geometry=gpd.points_from_xy([114.93], [25.83]), crs=4326)
    out = tmp_path / "located.csv"
    write_located(points, out)
    raw = out.read_bytes()
    assert raw.startswith(BOM) and "一" in raw.decode("utf-8-sig")
    assert pyogrio.read_dataframe(out)["case"].tolist() == ["一"]  # GDAL reads the BOM, not a column named \ufeffcase
