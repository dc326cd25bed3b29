"""The standalone map: one offline HTML file that Chromium opens from disk without any request or error."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import typer
from shapely.geometry import Point, box
from typer.testing import CliRunner

from geogrid.errors import InputError
from maps.assets import external_urls
from cli.maps import map_command
from maps.standalone import MAX_HEAT_POINTS, build_standalone_map, color_apart, heat_points, write_standalone_map

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
MAX_PAGE_BYTES = 3_000_000


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    """The sample's communities standing in for grids, with a grid code and household counts."""
    gdf = gpd.read_file(SAMPLE / "communities.geojson").rename(columns={"community_code": "grid_code"})
    gdf["households"] = np.arange(len(gdf)) * 10 + 300
    return gdf


@pytest.fixture(scope="module")
def incidents() -> gpd.GeoDataFrame:
    """The sample's 5,000 incidents."""
    return gpd.read_file(SAMPLE / "incidents.geojson")


@pytest.fixture(scope="module")
def cameras() -> gpd.GeoDataFrame:
    """The sample's 300 cameras."""
    return gpd.read_file(SAMPLE / "cameras.geojson")


@pytest.fixture(scope="module")
def page_html(grids, incidents, cameras) -> str:
    """The Chinese standalone page of the sample."""
    return build_standalone_map(grids, incidents, cameras)


def test_page_loads_nothing_remote(page_html):
    assert external_urls(page_html) == []
    assert "<script src=" not in page_html and '<link rel="stylesheet"' not in page_html


def test_page_opens_offline_in_chromium(page_html, grids, cameras, page_log, artifacts_dir, tmp_path):
    path = tmp_path / "map.html"
    path.write_text(page_html, encoding="utf-8")
    page = page_log.page
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "standalone_map.png"))
    assert page_log.console_errors == [] and page_log.page_errors == []
    assert page_log.remote_requests() == []
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    assert page.locator("path.leaflet-interactive").count() == len(grids) + len(cameras)
    assert page.locator(".leaflet-control-layers-overlays label").all_inner_texts() == [" 网格", " 事件热力图", " 摄像头"]
    assert "图例" in page.locator(".geogrid-legend").inner_text()
    assert page.title() == "网格地图"


def test_page_in_english(grids, incidents):
    html = build_standalone_map(grids, incidents, lang="en")
    assert '<html lang="en">' in html and "Households" in html and "Incidents (heat map)" in html
    assert "户数" not in html


def test_page_stays_small_with_5000_incidents(page_html, incidents):
    assert len(incidents) == 5000
    assert len(page_html.encode("utf-8")) < MAX_PAGE_BYTES


def test_heat_points_are_aggregated_and_capped():
    rng = np.random.default_rng(0)
    lon, lat = 114.9 + rng.random(100_000) * 0.2, 25.8 + rng.random(100_000) * 0.2
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    heat = heat_points(points)
    assert len(heat) <= MAX_HEAT_POINTS
    assert sum(p[2] for p in heat) == 100_000
    assert len(heat_points(points, cap=500)) <= 500


def test_touching_grids_get_different_colours():
    cells = gpd.GeoSeries([box(x, y, x + 1, y + 1) for x in range(4) for y in range(4)])
    colors = color_apart(cells)
    for i, a in enumerate(cells):
        for j, b in enumerate(cells):
            if i < j and a.touches(b):
                assert colors[i] != colors[j]


def test_grids_without_a_code_are_refused(grids):
    with pytest.raises(InputError, match="grid code"):
        build_standalone_map(grids.drop(columns="grid_code"))
    points = gpd.GeoDataFrame({"grid_code": ["a"]}, geometry=[Point(114.9, 25.8)], crs=4326)
    with pytest.raises(InputError, match="not polygons"):
        build_standalone_map(points)


def test_write_standalone_map_writes_one_file(tmp_path, grids):
    grids_path = tmp_path / "grids.geojson"
    grids.to_file(grids_path, driver="GeoJSON")
    out = write_standalone_map(grids_path, tmp_path / "out" / "map.html",
                               incidents_path=SAMPLE / "incidents.geojson", cameras_path=SAMPLE / "cameras.geojson")
    assert out.is_file() and external_urls(out.read_text(encoding="utf-8")) == []
    assert [p.name for p in out.parent.iterdir()] == ["map.html"]
    with pytest.raises(InputError, match=".html"):
        write_standalone_map(grids_path, tmp_path / "map.png")


def test_map_command(tmp_path, grids):
    app = typer.Typer()
    app.command()(map_command)
    grids_path = tmp_path / "grids.geojson"
    grids.to_file(grids_path, driver="GeoJSON")
    out = tmp_path / "map.html"
    ok = CliRunner().invoke(app, ["--grids", str(grids_path), "--cameras", str(SAMPLE / "cameras.geojson"),
                                  "--out", str(out), "--lang", "en"])
    assert ok.exit_code == 0, ok.output
    assert out.is_file() and "Cameras" in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, ["--grids", str(grids_path), "--out", str(out), "--lang", "fr"])
    assert bad.exit_code == 2 and "unknown language" in bad.output
    missing = CliRunner().invoke(app, ["--grids", str(tmp_path / "none.geojson"), "--out", str(out)])
    assert missing.exit_code == 2


def test_map_of_a_partition_geopackage_reads_its_grids_layer(tmp_path, grids):
    from geogrid.geo.io import write_gpkg
    from maps.standalone import write_standalone_map

    plan = tmp_path / "plan.gpkg"
    write_gpkg({"grids": grids, "assignments": grids.drop(columns="geometry").head(3)}, plan)
    out = write_standalone_map(plan, tmp_path / "plan.html")
    assert out.stat().st_mode & 0o044  # readable by others, as any file the user writes
    assert out.read_text(encoding="utf-8").count("grid_code") > 0
