"""Tests for geogrid.geo.io: reading GIS files and CSVs, atomic GeoPackage writing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geogrid.geo import crs
from geogrid.geo import io
from geogrid.errors import InputError

pytestmark = pytest.mark.filterwarnings(
    "ignore:Column names longer than 10 characters:UserWarning",
    "ignore:Normalized/laundered field name:RuntimeWarning",
)

BEIJING = shapely.box(116.39, 39.90, 116.40, 39.91)


@pytest.fixture
def buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"building_id": ["001", "002"], "households": [10, 20]},
        geometry=[BEIJING, shapely.box(116.40, 39.90, 116.41, 39.91)],
        crs=4326,
    )


def write_shapefile(gdf: gpd.GeoDataFrame, folder: Path, stem: str = "b") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    gdf.to_file(folder / f"{stem}.shp", engine="pyogrio")
    return sorted(folder.glob(f"{stem}.*"))


# --- vector formats ------------------------------------------------------------------------


def test_read_geojson(tmp_path, buildings):
    path = tmp_path / "b.geojson"
    buildings.to_file(path)
    out = io.read_layer(path, name="buildings")
    assert list(out["building_id"]) == ["001", "002"]
    assert out.crs.to_epsg() == 4326
    assert out.attrs == {"source": str(path), "row_numbering": "feature"}


def test_read_geojson_in_gcj02(tmp_path, buildings):
    path = tmp_path / "b.geojson"
    buildings.to_file(path)
    out = io.read_layer(path, name="buildings", input_crs="gcj02")
    expected = crs.gcj02_to_wgs84(*shapely.get_coordinates(buildings.geometry.values).T)
    assert np.allclose(shapely.get_coordinates(out.geometry.values).T, expected)


def test_read_gpkg_single_and_named_layer(tmp_path, buildings):
    path = tmp_path / "b.gpkg"
    buildings.to_file(path, layer="only")
    assert len(io.read_layer(path, name="buildings")) == 2
    buildings.iloc[:1].to_file(path, layer="second")
    assert len(io.read_layer(path, name="buildings", layer="second")) == 1


def test_gpkg_with_several_layers_needs_a_name(tmp_path, buildings):
    path = tmp_path / "b.gpkg"
    buildings.to_file(path, layer="houses")
    buildings.to_file(path, layer="towers")
    with pytest.raises(InputError, match=r"b\.gpkg: has 2 layers \(houses, towers\)"):
        io.read_layer(path, name="buildings")
    with pytest.raises(InputError, match="has no layer 'flats'; its layers are: houses, towers"):
        io.read_layer(path, name="buildings", layer="flats")


def test_read_projected_shapefile(tmp_path, buildings):
    write_shapefile(buildings.to_crs(4547), tmp_path)
    out = io.read_layer(tmp_path / "b.shp", name="buildings")
    assert np.allclose(out.total_bounds, buildings.total_bounds, atol=1e-7)
    assert list(out["building_i"]) == ["001", "002"]  # dBASE cuts field names to 10 characters


def test_shapefile_without_prj_in_degrees_is_assumed_wgs84(tmp_path, buildings):
    write_shapefile(buildings, tmp_path)
    (tmp_path / "b.prj").unlink()
    out = io.read_layer(tmp_path / "b.shp", name="buildings")
    assert out.crs.to_epsg() == 4326 and np.allclose(out.total_bounds, buildings.total_bounds)


def test_shapefile_without_prj_in_metres_needs_input_crs(tmp_path, buildings):
    write_shapefile(buildings.to_crs(4547), tmp_path)
    (tmp_path / "b.prj").unlink()
    with pytest.raises(InputError, match="--input-crs"):
        io.read_layer(tmp_path / "b.shp", name="buildings")
    out = io.read_layer(tmp_path / "b.shp", name="buildings", input_crs="EPSG:4547")
    assert np.allclose(out.total_bounds, buildings.total_bounds, atol=1e-7)


def test_read_zipped_shapefile_in_a_folder(tmp_path, buildings):
    parts = write_shapefile(buildings.to_crs(4547), tmp_path / "src")
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for part in parts:
            z.write(part, f"data/{part.name}")
    out = io.read_layer(archive, name="buildings")
    assert len(out) == 2 and np.allclose(out.total_bounds, buildings.total_bounds, atol=1e-7)


def test_zip_with_several_shapefiles_needs_a_layer(tmp_path, buildings):
    parts = write_shapefile(buildings, tmp_path / "src", "a") + write_shapefile(buildings.iloc[:1], tmp_path / "src", "c")
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in parts:
            z.write(part, part.name)
    with pytest.raises(InputError, match=r"several Shapefiles \(a, c\)"):
        io.read_layer(archive, name="buildings")
    assert len(io.read_layer(archive, name="buildings", layer="c")) == 1


@pytest.mark.parametrize("member", ["../evil.shp", "/etc/evil.shp", "a/../../evil.txt", "C:/evil.shp"])
def test_zip_with_unsafe_paths_rejected(tmp_path, member):
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(member, b"x")
    with pytest.raises(InputError, match="unsafe member paths") as info:
        io.read_layer(archive, name="buildings")
    assert member in str(info.value)


def test_zip_bomb_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "ZIP_MAX_BYTES", 100_000)
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("b.dbf", b"\0" * 2_000_000)
    with pytest.raises(InputError, match="more than 100 times its size"):
        io.read_layer(archive, name="buildings")


def test_zip_without_shapefile_and_corrupt_zip(tmp_path):
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", b"hello")
    with pytest.raises(InputError, match="contains no Shapefile"):
        io.read_layer(archive, name="buildings")
    archive.write_bytes(b"not a zip at all")
    with pytest.raises(InputError, match="not a valid zip archive"):
        io.read_layer(archive, name="buildings")


# --- bad files -----------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"buildings file .*nope\.geojson: file not found"):
        io.read_layer(tmp_path / "nope.geojson", name="buildings")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "b.geojson"
    path.touch()
    with pytest.raises(InputError, match=r"b\.geojson: the file is empty"):
        io.read_layer(path, name="buildings")


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_corrupt_file(tmp_path, suffix):
    path = tmp_path / f"b{suffix}"
    path.write_bytes(b'{"type": "FeatureCollection", "features": [ garbage')
    with pytest.raises(InputError, match="cannot be read") as info:
        io.read_layer(path, name="buildings")
    assert str(path) in str(info.value)


def test_no_features(tmp_path):
    path = tmp_path / "b.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match=r"b\.geojson: the file contains no features"):
        io.read_layer(path, name="buildings")


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "b.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(InputError, match="unsupported file type '.xlsx'"):
        io.read_layer(path, name="buildings")


# --- CSV ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lon", "lat"), [("lon", "lat"), ("LNG", "Latitude"), ("Longitude", "LAT"), ("x", "y")])
def test_csv_coordinate_column_names(tmp_path, lon, lat):
    path = tmp_path / "p.csv"
    path.write_text(f"group_id,{lon},{lat}\n007,116.39,39.90\n008,116.40,39.91\n")
    out = io.read_layer(path, name="groups")
    assert list(out["group_id"]) == ["007", "008"]  # text ids keep their leading zeros
    assert np.allclose(shapely.get_coordinates(out.geometry.values), [[116.39, 39.90], [116.40, 39.91]])
    assert out.attrs["row_numbering"] == "csv" and list(out.columns) == ["group_id", "geometry"]


def test_csv_bad_coordinates_name_spreadsheet_rows(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,lon,lat\na,116.39,39.90\nb,abc,39.90\nc,,39.91\nd,116.4,39.9\n")
    with pytest.raises(InputError) as info:
        io.read_layer(path, name="groups")
    message = str(info.value)
    assert "p.csv" in message and "'lon'" in message
    assert "rows 3 ('abc'), 4 (empty)" in message and "the header is row 1" in message


def test_csv_missing_coordinate_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,east,lat\na,116.39,39.90\n")
    with pytest.raises(InputError, match="no longitude column; name it one of lon, lng, longitude, x") as info:
        io.read_layer(path, name="groups")
    assert "The file has: id, east, lat" in str(info.value)


def test_csv_in_gb18030_and_header_only(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("名称,lon,lat\n朝阳,116.39,39.90\n".encode("gb18030"))
    assert list(io.read_layer(path, name="groups")["名称"]) == ["朝阳"]
    path.write_text("id,lon,lat\n")
    with pytest.raises(InputError, match="contains no features"):
        io.read_layer(path, name="groups")


def test_csv_swapped_columns_detected(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,lon,lat\na,39.90,116.39\n")
    with pytest.raises(InputError, match="swapped"):
        io.read_layer(path, name="groups")


# --- write_gpkg -----------------------------------------------------------------------------


def test_write_gpkg_spatial_and_table_layers(tmp_path, buildings):
    path = tmp_path / "out.gpkg"
    table = pd.DataFrame({"grid_id": ["g1", "g2"], "households": [310, 420]})
    io.write_gpkg({"buildings": buildings, "summary": table}, path)
    layers = dict(pyogrio.list_layers(path))
    assert layers == {"buildings": "Polygon", "summary": None}
    assert list(pyogrio.read_dataframe(path, layer="summary")["households"]) == [310, 420]
    assert len(gpd.read_file(path, layer="buildings")) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]


def test_write_gpkg_failure_leaves_no_target(tmp_path, buildings):
    path = tmp_path / "out.gpkg"
    broken = pd.DataFrame({"z": np.array([1 + 2j])})  # complex numbers cannot be stored
    with pytest.raises(Exception) as info:
        io.write_gpkg({"buildings": buildings, "broken": broken}, path)
    assert "while writing layer 'broken'" in "".join(getattr(info.value, "__notes__", []))
    assert list(tmp_path.iterdir()) == []


def test_write_gpkg_failure_keeps_previous_target(tmp_path, buildings):
    path = tmp_path / "out.gpkg"
    io.write_gpkg({"old": buildings}, path)
    before = path.read_bytes()
    with pytest.raises(Exception):
        io.write_gpkg({"new": buildings, "broken": pd.DataFrame({"z": np.array([1j])})}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]


def test_write_gpkg_replaces_and_makes_its_folder(tmp_path, buildings):
    path = tmp_path / "out.gpkg"
    io.write_gpkg({"old": buildings}, path)
    io.write_gpkg({"new": buildings}, path)
    assert [row[0] for row in pyogrio.list_layers(path)] == ["new"]
    nested = tmp_path / "new" / "folder" / "out.gpkg"
    io.write_gpkg({"new": buildings}, nested)
    assert [row[0] for row in pyogrio.list_layers(nested)] == ["new"]
    with pytest.raises(InputError, match="is a file, not a folder"):
        io.write_gpkg({"new": buildings}, path / "out.gpkg")


def test_read_table_from_a_previous_output(tmp_path, buildings):
    path = tmp_path / "plan.gpkg"
    assignments = pd.DataFrame({"building_id": ["001"], "grid_code": ["G01"]})
    io.write_gpkg({"grids": buildings, "assignments": assignments}, path)
    table = io.read_table(path, name="previous plan", layer="assignments")
    assert table.to_dict("list") == {"building_id": ["001"], "grid_code": ["G01"]}
    assert table.attrs["source"] == str(path)
    with pytest.raises(InputError, match="has no layer 'x'; its layers are: grids, assignments"):
        io.read_table(path, name="previous plan", layer="x")
