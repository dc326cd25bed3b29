"""`geogrid partition` as a user runs it: files in, a GeoPackage and a report out, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from cli.main import app
from geogrid.geo.crs import wgs84_to_gcj02
from tests.synthetic import METRIC, community

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    communities, buildings, roads = community(np.random.default_rng(11), width=600, height=500)
    paths = {}
    for name, frame in {"communities": communities, "buildings": buildings, "roads": roads}.items():
        paths[name] = folder / f"{name}.geojson"
        frame.to_file(paths[name], driver="GeoJSON")
    paths["frames"] = (communities, buildings, roads)
    return paths


def _run(*args: str):
    return runner.invoke(app, ["partition", *map(str, args)])


def test_partition_writes_grids_assignments_and_report(inputs, tmp_path):
    out, report = tmp_path / "plan.gpkg", tmp_path / "report.json"
    result = _run("--communities", inputs["communities"], "--buildings", inputs["buildings"],
                  "--roads", inputs["roads"], "--out", out, "--report", report)
    assert result.exit_code == 0, result.output
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"grids", "assignments"} <= layers
    grids = pyogrio.read_dataframe(out, layer="grids")
    assignments = pyogrio.read_dataframe(out, layer="assignments", read_geometry=False)
    assert grids.crs.to_epsg() == 4326
    assert {"grid_code", "community_code", "households", "population", "building_count", "compactness",
            "flags"} <= set(grids.columns)
    assert set(assignments["grid_code"]) == set(grids["grid_code"])
    data = json.loads(report.read_text())
    assert data["total"]["grid_count"] == len(grids)
    assert data["total"]["within_limits_share"] == 1.0
    assert "run_time_s" in data
    assert "total" in result.output and "100%" in result.output


def test_gcj02_input_is_converted(inputs, tmp_path):
    """The same district given in GCJ-02 comes back to within 0.1 m of where it is in WGS-84."""
    communities, buildings, roads = inputs["frames"]
    shifted = {}
    for name, frame in {"communities": communities, "buildings": buildings, "roads": roads}.items():
        moved = frame.copy()
        moved.geometry = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.column_stack(
            wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
        shifted[name] = tmp_path / f"{name}.geojson"
        moved.set_crs(None, allow_override=True).to_file(shifted[name], driver="GeoJSON")
    plain, gcj = tmp_path / "plain.gpkg", tmp_path / "gcj.gpkg"
    assert _run("--communities", inputs["communities"], "--buildings", inputs["buildings"], "--roads",
                inputs["roads"], "--out", plain).exit_code == 0
    result = _run("--communities", shifted["communities"], "--buildings", shifted["buildings"], "--roads",
                  shifted["roads"], "--input-crs", "gcj02", "--out", gcj)
    assert result.exit_code == 0, result.output
    a = pyogrio.read_dataframe(plain, layer="grids").to_crs(METRIC)
    b = pyogrio.read_dataframe(gcj, layer="grids").to_crs(METRIC)
    assert len(a) == len(b)
    outline_a, outline_b = shapely.union_all(a.geometry.to_numpy()), shapely.union_all(b.geometry.to_numpy())
    assert shapely.hausdorff_distance(outline_a, outline_b) < 0.1


def _broken_buildings(inputs, tmp_path, change) -> str:
    _, buildings, _ = inputs["frames"]
    frame = buildings.copy()
    frame = change(frame)
    path = tmp_path / "bad_buildings.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.drop(columns="households"), "households"),
        (lambda f: f.assign(households=np.where(np.arange(len(f)) == 3, -5, f["households"])), "-5"),
        (lambda f: f.assign(population=np.where(np.arange(len(f)) == 2, "many", f["population"].astype(str))),
         "many"),
        (lambda f: f.assign(building_id=np.where(np.arange(len(f)) == 1, f["building_id"].iat[0], f["building_id"])),
         "B00000"),
        (lambda f: f.set_geometry(shapely.transform(f.geometry.to_numpy(), lambda xy: xy[:, ::-1])), "swap"),
    ],
    ids=["missing column", "negative households", "non-numeric population", "duplicate ids", "lon/lat swapped"],
)
def test_bad_buildings_are_rejected_with_a_message_and_nothing_written(inputs, tmp_path, change, expected):
    out = tmp_path / "plan.gpkg"
    out.write_bytes(b"an earlier plan")
    bad = _broken_buildings(inputs, tmp_path, change)
    result = _run("--communities", inputs["communities"], "--buildings", bad, "--out", out)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"an earlier plan"


def test_empty_and_unreadable_files_are_named(inputs, tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"not a geopackage at all")
    for path in (empty, garbage, tmp_path / "missing.geojson"):
        result = _run("--communities", inputs["communities"], "--buildings", path, "--out", tmp_path / "p.gpkg")
        assert result.exit_code == 2, result.output
        assert path.name in result.output.replace("\n", "")
    assert not (tmp_path / "p.gpkg").exists()


def test_bad_rules_are_rejected(inputs, tmp_path):
    result = _run("--communities", inputs["communities"], "--buildings", inputs["buildings"],
                  "--min-households", "600", "--out", tmp_path / "p.gpkg")
    assert result.exit_code == 2
    assert "min_households" in result.output


def test_previous_plan_round_trip(inputs, tmp_path):
    first = tmp_path / "first.gpkg"
    assert _run("--communities", inputs["communities"], "--buildings", inputs["buildings"], "--roads",
                inputs["roads"], "--out", first).exit_code == 0
    second, report = tmp_path / "second.gpkg", tmp_path / "r.json"
    result = _run("--communities", inputs["communities"], "--buildings", inputs["buildings"], "--roads",
                  inputs["roads"], "--previous", first, "--out", second, "--report", report)
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["total"]["households_moved_share"] == 0.0


def test_partition_on_a_dask_scheduler_gives_the_same_plan(inputs, tmp_path):
    """Communities run on a real Dask scheduler (a local one here) give the same grids."""
    from dask.distributed import LocalCluster

    local, remote = tmp_path / "local.gpkg", tmp_path / "dask.gpkg"
    args = ["--communities", inputs["communities"], "--buildings", inputs["buildings"], "--roads", inputs["roads"]]
    assert _run(*args, "--out", local).exit_code == 0
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = _run(*args, "--out", remote, "--dask-scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    a = pyogrio.read_dataframe(local, layer="assignments", read_geometry=False)
    b = pyogrio.read_dataframe(remote, layer="assignments", read_geometry=False)
    assert a.equals(b)


def test_buildings_from_a_lon_lat_csv(inputs, tmp_path):
    """A household register as CSV (points, no footprints) is partitioned like footprints."""
    _, buildings, _ = inputs["frames"]
    table = buildings.drop(columns="geometry").assign(
        lon=buildings.geometry.representative_point().x, lat=buildings.geometry.representative_point().y)
    csv = tmp_path / "buildings.csv"
    table.to_csv(csv, index=False)
    out = tmp_path / "plan.gpkg"
    result = _run("--communities", inputs["communities"], "--buildings", csv, "--roads", inputs["roads"], "--out", out)
    assert result.exit_code == 0, result.output
    assignments = pyogrio.read_dataframe(out, layer="assignments", read_geometry=False)
    assert set(assignments["building_id"]) == set(buildings["building_id"])
    assert assignments["grid_code"].notna().all()
    grids = pyogrio.read_dataframe(out, layer="grids")
    assert grids["households"].sum() == buildings["households"].sum()


def test_out_folders_are_made_and_a_file_in_the_way_is_named(inputs, tmp_path):
    """`--out out/plan.gpkg` on a fresh clone (no out/ yet) works; a file where the folder should be
    is named, with a non-zero exit."""
    out, report = tmp_path / "out" / "plan.gpkg", tmp_path / "reports" / "r.json"
    result = _run("--communities", inputs["communities"], "--buildings", inputs["buildings"],
                  "--out", out, "--report", report)
    assert result.exit_code == 0, result.output
    assert out.is_file() and json.loads(report.read_text())["total"]["grid_count"] > 0
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    result = _run("--communities", inputs["communities"], "--buildings", inputs["buildings"],
                  "--out", blocked / "plan.gpkg")
    assert result.exit_code == 2
    assert "blocked is a file, not a folder" in " ".join(result.output.split())  # rich wraps long lines


def test_a_previous_plan_without_its_columns_is_named(inputs, tmp_path):
    args = ["--communities", inputs["communities"], "--buildings", inputs["buildings"]]
    plan = tmp_path / "plan.gpkg"
    assert _run(*args, "--out", plan).exit_code == 0
    grids = pyogrio.read_dataframe(plan, layer="grids")
    assignments = pyogrio.read_dataframe(plan, layer="assignments", read_geometry=False)
    for layer, broken in (("grids", tmp_path / "no_code.gpkg"), ("assignments", tmp_path / "no_id.gpkg")):
        pyogrio.write_dataframe(grids.drop(columns="grid_code") if layer == "grids" else grids, broken, layer="grids")
        table = assignments.drop(columns="building_id") if layer == "assignments" else assignments
        pyogrio.write_dataframe(table, broken, layer="assignments", append=True)
        out = tmp_path / f"after_{layer}.gpkg"
        result = _run(*args, "--previous", broken, "--out", out)
        assert result.exit_code == 2
        missing = "grid_code" if layer == "grids" else "building_id"
        said = " ".join(result.output.split())  # rich wraps long lines
        assert f"the {layer} layer of the previous plan file" in said and f"missing column(s) {missing}" in said
        assert not out.exists()
