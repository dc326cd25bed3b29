"""Streets by kind: footways do not cut blocks, boundaries prefer major streets, the report says along which."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from cli.main import app
from geogrid.errors import InputError
from geogrid.geo.roads import FOOTWAY, MAJOR, MINOR, UNKNOWN, classify, road_classes
from geogrid.partition import partition
from tests.synthetic import METRIC, ORIGIN, community


def test_road_classes_from_osm_and_chinese_grades():
    values = pd.Series(["primary", "Motorway_link", "tertiary", "residential", "living_street", "unclassified",
                        "service", "footway", "steps", "track_grade2", "主干道", "次干路", "快速路", "高速公路",
                        "支路", "小区道路", "人行道", None, "", "天桥"])
    assert classify(values).tolist() == [
        MAJOR, MAJOR, MAJOR, MINOR, MINOR, MINOR, FOOTWAY, FOOTWAY, FOOTWAY, FOOTWAY, MAJOR, MAJOR, MAJOR, MAJOR,
        MINOR, FOOTWAY, FOOTWAY, UNKNOWN, UNKNOWN, UNKNOWN]


def test_the_class_column_is_found_or_named():
    line = [shapely.LineString([(0, 0), (1, 1)])]
    assert road_classes(gpd.GeoDataFrame({"name": ["a"]}, geometry=line)) is None
    assert road_classes(gpd.GeoDataFrame({"道路等级": ["支路"]}, geometry=line)).tolist() == [MINOR]
    assert road_classes(gpd.GeoDataFrame({"kind": ["path"], "highway": ["primary"]}, geometry=line),
                        "kind").tolist() == [FOOTWAY]
    with pytest.raises(InputError, match="no road class column 'kind'.*highway"):
        road_classes(gpd.GeoDataFrame({"highway": ["primary"]}, geometry=line), "kind")


def _line_between_columns(communities: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> shapely.LineString:
    """A north-south line through the widest gap between columns of buildings, 40% across the community."""
    outline = communities.to_crs(METRIC).geometry.iloc[0]
    bounds = buildings.to_crs(METRIC).bounds
    x0, _, x1, _ = outline.bounds
    target = x0 + 0.4 * (x1 - x0)
    lefts, rights = np.sort(bounds["minx"].to_numpy()), np.sort(bounds["maxx"].to_numpy())
    gaps = [(r, lefts[lefts > r].min()) for r in rights if (lefts > r).any()]
    gaps = [(a, b) for a, b in gaps if not ((bounds["minx"] < b) & (bounds["maxx"] > a)).any()]
    a, b = min(gaps, key=lambda g: abs((g[0] + g[1]) / 2 - target))
    x = (a + b) / 2
    return shapely.LineString([(x, ORIGIN[1] - 50), (x, ORIGIN[1] + 1000)])


def test_a_footway_does_not_cut_blocks_and_a_residential_street_does():
    communities, buildings, _ = community(np.random.default_rng(4), width=500, height=420, with_roads=False)
    line = _line_between_columns(communities, buildings)
    without = partition(communities, buildings)
    assert len(without.grids) >= 2

    def with_class(kind: str):
        roads = gpd.GeoDataFrame({"highway": [kind]}, geometry=[line], crs=METRIC).to_crs(4326)
        return partition(communities, buildings, roads=roads)

    footway, street = with_class("footway"), with_class("residential")
    # a footway changes nothing: the same grids as with no line at all
    pd.testing.assert_frame_equal(footway.assignments, without.assignments)
    assert footway.grids.geometry.geom_equals_exact(without.grids.geometry, 1e-9).all()
    assert footway.report["total"]["boundary_on_streets_share"] == 0
    # the same line as a street cuts the blocks, and the grids follow it
    inside = shapely.intersection(line, communities.to_crs(METRIC).geometry.iloc[0])

    def line_used(result) -> float:
        edges = shapely.union_all(shapely.boundary(result.grids.to_crs(METRIC).geometry.to_numpy()))
        return shapely.intersection(edges, shapely.buffer(inside, 2.0)).length / inside.length

    assert line_used(footway) == line_used(without) < 0.5
    assert line_used(street) > 0.8
    assert street.report["total"]["boundary_by_street_class_share"][MINOR] > 0


def _crossroads(north_south: str, east_west: str):
    """A square community cut into quarters by a north-south and an east-west street of the given classes,
    with equal buildings placed symmetrically: cutting along either street is equally good but for its class."""
    x0, y0 = ORIGIN
    centres = np.array([30.0, 70.0, 110.0, 190.0, 230.0, 270.0])
    cx, cy = (a.ravel() for a in np.meshgrid(x0 + centres, y0 + centres))
    buildings = gpd.GeoDataFrame({"building_id": [f"B{i:03d}" for i in range(len(cx))], "households": 20,
                                  "population": 40}, geometry=shapely.box(cx - 7, cy - 7, cx + 7, cy + 7), crs=METRIC)
    communities = gpd.GeoDataFrame({"community_code": ["360702-001-001"], "kind": ["urban"]},
                                   geometry=[shapely.box(x0, y0, x0 + 300, y0 + 300)], crs=METRIC)
    roads = gpd.GeoDataFrame({"highway": [north_south, east_west]}, crs=METRIC, geometry=[
        shapely.LineString([(x0 + 150, y0 - 50), (x0 + 150, y0 + 350)]),
        shapely.LineString([(x0 - 50, y0 + 150), (x0 + 350, y0 + 150)])])
    return communities.to_crs(4326), buildings.to_crs(4326), roads.to_crs(4326)


@pytest.mark.parametrize("classes", [("primary", "residential"), ("residential", "primary")])
def test_the_cut_follows_the_major_street(classes):
    communities, buildings, roads = _crossroads(*classes)
    result = partition(communities, buildings, roads=roads)
    assert len(result.grids) == 2
    shares = result.report["total"]["boundary_by_street_class_share"]
    assert shares[MAJOR] > 0.9, shares
    assert shares[MINOR] < 0.1, shares
    major = roads.to_crs(METRIC).geometry[classes.index("primary")]
    edges = shapely.union_all(shapely.boundary(result.grids.to_crs(METRIC).geometry.to_numpy()))
    assert shapely.intersection(edges, shapely.buffer(major, 1.0)).length > 290


def test_road_class_column_option(tmp_path):
    communities, buildings, roads = _crossroads("primary", "residential")
    roads["等级"] = ["支路", "主干道"]
    roads = roads.rename(columns={"highway": "kind"})
    files = {}
    for name, frame in (("communities", communities), ("buildings", buildings), ("roads", roads)):
        files[name] = tmp_path / f"{name}.geojson"
        frame.to_file(files[name])
    base = ["partition", "--communities", str(files["communities"]), "--buildings", str(files["buildings"]),
            "--roads", str(files["roads"]), "--out", str(tmp_path / "plan.gpkg")]
    runner = CliRunner()
    missing = runner.invoke(app, base + ["--road-class-column", "道路类型"])
    assert missing.exit_code == 2
    assert "道路类型" in missing.output and not (tmp_path / "plan.gpkg").exists()
    reports = {}
    for column in ("等级", "kind"):
        report = tmp_path / f"{column}.json"
        done = runner.invoke(app, base + ["--road-class-column", column, "--report", str(report)])
        assert done.exit_code == 0, done.output
        reports[column] = pd.read_json(report, typ="series")["total"]["boundary_by_street_class_share"]
    # 等级 makes the east-west street major, kind the north-south one: the cut follows each in turn
    assert reports["等级"][MAJOR] > 0.8 and reports["kind"][MAJOR] > 0.8
