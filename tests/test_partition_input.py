"""The engine on awkward input geometry: nested, overlapping and collapsed footprints, overlapping
communities, boundaries that cut buildings, and non-convex blocks (every grid one polygon)."""

from __future__ import annotations

import json
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geogrid.errors import InputError
from geogrid.partition import partition
from tests.synthetic import METRIC, ORIGIN

X0, Y0 = ORIGIN


def _frames(outlines, footprints, households, roads=(), codes=None):
    codes = codes or [f"360702-001-{c + 1:03d}" for c in range(len(outlines))]
    communities = gpd.GeoDataFrame({"community_code": codes}, geometry=list(outlines), crs=METRIC)
    households = np.asarray(households)
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{i:03d}" for i in range(len(footprints))], "households": households,
         "population": np.round(households * 2.4).astype(int)},
        geometry=list(footprints), crs=METRIC)
    lines = gpd.GeoDataFrame(geometry=list(roads), crs=METRIC) if len(roads) else None
    return communities.to_crs(4326), buildings.to_crs(4326), lines if lines is None else lines.to_crs(4326)


def _rules(grids) -> list[set[str]]:
    return [{f["rule"] for f in json.loads(text)} for text in grids["flags"]]


def _assert_tiles(communities, buildings, result):
    """Every grid one polygon inside its community, grids tile the communities, no footprint cut."""
    grids = result.grids.to_crs(METRIC)
    geoms = grids.geometry.to_numpy()
    assert (shapely.get_type_id(geoms) == 3).all(), grids[["grid_code", "flags"]]
    assert not any("several_parts" in r for r in _rules(grids))
    outlines = communities.to_crs(METRIC).set_index("community_code").geometry
    for code, own in grids.groupby("community_code"):
        outline = outlines[code]
        union = shapely.union_all(own.geometry.to_numpy())
        assert shapely.area(shapely.symmetric_difference(union, outline)) < 1e-3 * outline.length
        assert own.area.sum() == pytest.approx(outline.area, rel=1e-6)  # no overlaps
    assert not any("building_cut" in r for r in _rules(grids))
    home = grids.set_index("grid_code").geometry
    footprints = buildings.to_crs(METRIC).set_index("building_id").geometry
    carved = {r["building_id"]: r["overlap_m2"] for r in result.report["input_repairs"]["buildings"]
              if r["repair"] == "overlap_carved"}  # the part overlapping a larger footprint is that one's
    for bid, code in zip(result.assignments["building_id"], result.assignments["grid_code"]):
        outside = footprints[bid].difference(home[code]).area
        assert outside < 0.05 + carved.get(bid, 0.0), f"{bid} is cut by {code}"
    assert result.assignments["households"].sum() == buildings["households"].sum()


# --- footprints ---------------------------------------------------------------------------


def _square_community(n_side: int = 4, gap: float = 45.0):
    """A square community with a lattice of 30 x 15 m footprints."""
    size = n_side * gap + 20
    outline = shapely.box(X0, Y0, X0 + size, Y0 + size)
    xs, ys = np.meshgrid(np.arange(n_side) * gap + X0 + 10, np.arange(n_side) * gap + Y0 + 10)
    footprints = list(shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 30, ys.ravel() + 15))
    return outline, footprints


def test_nested_footprint_joins_its_containers_grid():
    """The issue's minimal case (a 40 x 40 m footprint and a 10 x 10 m one inside it), with enough
    households around it for several grids."""
    outline, footprints = _square_community()
    outer = shapely.box(X0 + 60, Y0 + 60, X0 + 100, Y0 + 100)
    inner = shapely.box(X0 + 75, Y0 + 75, X0 + 85, Y0 + 85)
    footprints = [f for f in footprints if not f.intersects(outer)] + [outer, inner]
    households = [90] * (len(footprints) - 2) + [60, 40]
    communities, buildings, _ = _frames([outline], footprints, households)
    result = partition(communities, buildings)
    _assert_tiles(communities, buildings, result)
    grid_of = result.assignments.set_index("building_id")["grid_code"]
    outer_id, inner_id = buildings["building_id"].iat[-2], buildings["building_id"].iat[-1]
    assert grid_of[inner_id] == grid_of[outer_id]
    assert len(result.grids) > 1
    repairs = result.report["input_repairs"]["buildings"]
    assert {"building_id": inner_id, "repair": "nested_joined", "container": outer_id} == {
        k: repairs[0][k] for k in ("building_id", "repair", "container")}
    counts = result.assignments.set_index("building_id")["households"]
    assert counts[inner_id] == 40 and counts[outer_id] == 60


def test_overlapping_identical_and_sliver_footprints_do_not_crash():
    outline, footprints = _square_community()
    footprints += [
        shapely.box(X0 + 30, Y0 + 10, X0 + 55, Y0 + 25),  # 40% of it overlaps the first footprint
        shapely.box(X0 + 55, Y0 + 10, X0 + 85, Y0 + 25),  # the second footprint again
        shapely.box(X0 + 41, Y0 + 40, X0 + 41.3, Y0 + 55),  # a 30 cm sliver
        shapely.box(X0 + 40, Y0 + 100, X0 + 55, Y0 + 115),  # shares a wall with a lattice footprint
    ]
    households = [80] * len(footprints)
    communities, buildings, _ = _frames([outline], footprints, households)
    result = partition(communities, buildings)
    _assert_tiles(communities, buildings, result)
    kinds = {r["building_id"]: r["repair"] for r in result.report["input_repairs"]["buildings"]}
    ids = buildings["building_id"].to_numpy()
    assert kinds[ids[-4]] == "overlap_carved"  # it keeps the 60% that does not overlap
    assert kinds[ids[-3]] == "nested_joined"  # identical to another one
    assert ids[-1] not in kinds  # a shared wall needs no repair


def test_collapsed_footprints_are_kept_as_points(tmp_path):
    """A ring of too few points or with no area is kept as a point building, households counted."""
    outline, footprints = _square_community()
    flat = shapely.Polygon([(X0 + 150, Y0 + 35), (X0 + 160, Y0 + 35), (X0 + 170, Y0 + 35)])  # between rows
    communities, buildings, _ = _frames([outline], footprints + [flat], [80] * len(footprints) + [33])
    result = partition(communities, buildings)
    flat_id = buildings["building_id"].iat[-1]
    assert result.assignments.set_index("building_id").at[flat_id, "households"] == 33
    assert result.assignments["grid_code"].notna().all()
    assert result.grids["households"].sum() == buildings["households"].sum()
    repairs = result.report["input_repairs"]
    assert repairs["counts"] == {"point_building": 1}
    assert repairs["buildings"][0]["building_id"] == flat_id


# --- communities --------------------------------------------------------------------------


def _two_communities(shift: float):
    """Two square communities side by side, the second moved left by ``shift`` metres (overlap)."""
    a, fa = _square_community()
    b = shapely.affinity.translate(a, a.bounds[2] - a.bounds[0] - shift)
    fb = [shapely.affinity.translate(f, a.bounds[2] - a.bounds[0] - shift) for f in fa]
    keep = [f for f in fb if not f.intersects(a)]
    return [a, b], fa + keep


def test_overlapping_communities_are_refused_naming_pairs_and_area():
    outlines, footprints = _two_communities(30.0)
    communities, buildings, _ = _frames(outlines, footprints, [80] * len(footprints))
    with pytest.raises(InputError, match=r"360702-001-001 and 360702-001-002 \(6,000 m²\).*--resolve-overlaps"):
        partition(communities, buildings)


def test_overlapping_communities_resolved_to_the_smaller_code():
    outlines, footprints = _two_communities(30.0)
    communities, buildings, _ = _frames(outlines, footprints, [80] * len(footprints))
    result = partition(communities, buildings, resolve_overlaps=True)
    grids = result.grids.to_crs(METRIC)
    assert (shapely.get_type_id(grids.geometry.to_numpy()) == 3).all()
    union = shapely.union_all(grids.geometry.to_numpy())
    assert grids.area.sum() == pytest.approx(union.area, rel=1e-6)  # no two grids overlap
    assert result.report["total"]["overlap_m2"] < 1
    [repair] = result.report["input_repairs"]["communities"]
    assert (repair["community_code"], repair["to"], round(repair["area_m2"])) == (
        "360702-001-002", "360702-001-001", 6000)


def test_gaps_between_communities_are_reported():
    outlines, footprints = _two_communities(-1.0)  # a 1 m wide slit between them
    communities, buildings, _ = _frames(outlines, footprints, [80] * len(footprints))
    gaps = partition(communities, buildings).report["input_repairs"]["community_gaps"]
    assert gaps["count"] == 1 and gaps["area_m2"] == pytest.approx(200.0, abs=1)


def test_a_community_without_buildings_is_one_empty_grid():
    outlines, footprints = _two_communities(-50.0)
    communities, buildings, _ = _frames(outlines, footprints[:16], [80] * 16)  # none in the second
    grids = partition(communities, buildings).grids
    empty = grids[grids["community_code"] == "360702-001-002"]
    assert len(empty) == 1 and empty["households"].iat[0] == 0


def test_building_cut_by_a_community_boundary_goes_to_the_community_holding_most_of_it():
    outlines, footprints = _two_communities(0.0)
    edge = outlines[0].bounds[2]
    straddling = shapely.box(edge - 8, Y0 + 120, edge + 22, Y0 + 135)  # 22 of its 30 m in the second
    footprints = [f for f in footprints if not f.intersects(straddling)] + [straddling]
    communities, buildings, _ = _frames(outlines, footprints, [80] * len(footprints))
    result = partition(communities, buildings)
    bid = buildings["building_id"].iat[-1]
    row = result.assignments.set_index("building_id").loc[bid]
    assert row["community_code"] == "360702-001-002"
    [repair] = [r for r in result.report["input_repairs"]["buildings"] if r["building_id"] == bid]
    assert repair["repair"] == "cut_by_community_boundary" and repair["share_inside"] == pytest.approx(22 / 30, abs=1e-4)
    grids = result.grids.to_crs(METRIC)
    outlines_m = communities.to_crs(METRIC).set_index("community_code").geometry
    for code, geom in zip(grids["community_code"], grids.geometry):
        assert geom.difference(outlines_m[code]).area < 0.01  # no grid spills outside its community
    assert grids.area.sum() == pytest.approx(shapely.union_all(grids.geometry.to_numpy()).area, rel=1e-6)


# --- non-convex blocks --------------------------------------------------------------------


def _block(kind: str, size: float, arm: float):
    """A community whose block is an L, a U, a ring around a courtyard block, or a U cut by a footpath."""
    s, a = size, arm
    if kind == "L":
        outline = shapely.Polygon([(0, 0), (s, 0), (s, a), (a, a), (a, s), (0, s)])
    else:
        outline = shapely.Polygon([(0, 0), (s, 0), (s, s), (s - a, s), (s - a, a), (a, a), (a, s), (0, s)])
    roads = []
    if kind == "courtyard":
        outline = shapely.box(0, 0, s, s)
        roads = [shapely.LineString([(a, a), (s - a, a), (s - a, s - a), (a, s - a), (a, a)])]
    elif kind == "footpath":
        roads = [shapely.LineString([(-10, a * 0.6), (s + 10, a * 0.6)])]
    move = lambda g: shapely.affinity.translate(g, X0, Y0)  # noqa: E731
    return move(outline), [move(r) for r in roads]


def _buildings_in(outline, roads, rng, spacing: float):
    """Footprints of 18 x 10 m on a jittered lattice, wholly inside the outline and off the roads."""
    x0, y0, x1, y1 = outline.bounds
    gx, gy = np.meshgrid(np.arange(x0 + 6, x1 - 20, spacing), np.arange(y0 + 6, y1 - 12, spacing * 0.8))
    x, y = gx.ravel() + rng.uniform(-2, 2, gx.size), gy.ravel() + rng.uniform(-2, 2, gy.size)
    boxes = shapely.box(x, y, x + 18, y + 10)
    clear = shapely.buffer(shapely.union_all(roads), 4) if roads else shapely.Polygon()
    inside = shapely.contains(shapely.buffer(outline, -2), boxes) & ~shapely.intersects(clear, boxes)
    return list(boxes[inside])


@settings(max_examples=int(os.environ.get("GEOGRID_EXAMPLES", 12)), derandomize=not os.environ.get("GEOGRID_EXPLORE"),
          deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["L", "U", "courtyard", "footpath"]), size=st.floats(120, 260),
       arm=st.floats(0.3, 0.42), spacing=st.floats(26, 40), seed=st.integers(0, 10_000), nested=st.booleans())
def test_grids_on_non_convex_blocks_are_single_polygons(kind, size, arm, spacing, seed, nested):
    """L, U, courtyard and footpath blocks, with (``nested``) a half-size footprint inside every third one."""
    rng = np.random.default_rng(seed)
    outline, roads = _block(kind, size, arm * size)
    footprints = _buildings_in(outline, roads, rng, spacing)
    if nested:
        footprints += [shapely.affinity.scale(f, 0.5, 0.5) for f in footprints[::3]]
    households = rng.integers(30, 140, len(footprints))
    communities, buildings, lines = _frames([outline], footprints, households, roads)
    result = partition(communities, buildings, roads=lines)
    _assert_tiles(communities, buildings, result)


# --- through the command line -------------------------------------------------------------


def _cli(tmp_path, communities, buildings, *extra):
    from typer.testing import CliRunner

    from cli.main import app

    paths = []
    for name, frame in (("communities", communities), ("buildings", buildings)):
        path = tmp_path / f"{name}.geojson"
        if isinstance(frame, dict):
            path.write_text(json.dumps(frame))
        else:
            frame.to_file(path, driver="GeoJSON")
        paths.append(path)
    out, report = tmp_path / "plan.gpkg", tmp_path / "report.json"
    out.write_bytes(b"an earlier plan")
    result = CliRunner().invoke(app, ["partition", "--communities", str(paths[0]), "--buildings", str(paths[1]),
                                      "--out", str(out), "--report", str(report), *extra])
    assert "Traceback" not in result.output
    return result, out, report


def test_cli_keeps_rings_of_too_few_points_as_point_buildings(tmp_path):
    """Rings a GeoJSON reader cannot even build (two points), and flat ones, become point buildings."""
    outline, footprints = _square_community()
    communities, buildings, _ = _frames([outline], footprints, [80] * len(footprints))
    collection = json.loads(buildings.to_json())
    x, y = collection["features"][0]["geometry"]["coordinates"][0][0]
    for n, ring in enumerate([[[x - 1e-4, y + 2e-4], [x - 2e-4, y + 2e-4]],  # between the first two rows
                              [[x - 1e-4, y + 2.5e-4], [x - 2e-4, y + 2.5e-4], [x - 1e-4, y + 2.5e-4]]]):
        collection["features"].append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                                       "properties": {"building_id": f"flat{n}", "households": 7, "population": 15}})
    result, out, report = _cli(tmp_path, communities, collection)
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["input_repairs"]["counts"] == {"point_building": 2}
    assert {r["building_id"] for r in data["input_repairs"]["buildings"]} == {"flat0", "flat1"}
    assert data["total"]["households"]["total"] == 80 * len(footprints) + 14
    assert "input_repairs" in result.output


def test_cli_nested_footprints_partition(tmp_path):
    outline, footprints = _square_community()
    inner = shapely.box(X0 + 15, Y0 + 12, X0 + 25, Y0 + 22)  # inside the first footprint
    communities, buildings, _ = _frames([outline], footprints + [inner], [80] * len(footprints) + [20])
    result, out, report = _cli(tmp_path, communities, buildings)
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["input_repairs"]["counts"] == {"nested_joined": 1}


def test_cli_overlapping_communities_exit_2_unless_resolved(tmp_path):
    outlines, footprints = _two_communities(30.0)
    communities, buildings, _ = _frames(outlines, footprints, [80] * len(footprints))
    result, out, _ = _cli(tmp_path, communities, buildings)
    assert result.exit_code == 2, result.output
    assert "360702-001-001 and 360702-001-002" in result.output.replace("\n", "")
    assert out.read_bytes() == b"an earlier plan"
    result, out, report = _cli(tmp_path, communities, buildings, "--resolve-overlaps")
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["input_repairs"]["counts"] == {"overlap_given": 1}


# --- real geometry ------------------------------------------------------------------------


def test_real_osm_blocks_from_momepy_give_single_polygon_grids():
    """momepy's bundled OSM extract of Bubeneč (Prague): two communities of whole street blocks,
    households from footprint area x 5 storeys at 60 m² each, and in every fifth footprint a copy of
    it at half size (a roof over a structure, as OSM has them); no crash, every grid one polygon."""
    import momepy
    from pathlib import Path

    source = Path(momepy.__file__).parent / "datasets" / "bubenec.gpkg"
    footprints = gpd.read_file(source, layer="buildings").to_crs(32633)
    streets = gpd.read_file(source, layer="streets").to_crs(32633)
    blocks = momepy.enclosures(streets).geometry
    west = blocks.centroid.x < blocks.centroid.x.median()
    outlines = [shapely.union_all(blocks[side].to_numpy()) for side in (west, ~west)]
    footprints = footprints[footprints.intersects(shapely.union_all(outlines))]  # the blocks' buildings
    roofs = footprints.iloc[::5].copy()
    roofs["uID"] = roofs["uID"].astype(str) + "-inner"
    roofs.geometry = roofs.geometry.scale(0.5, 0.5, origin="centroid")
    footprints = pd.concat([footprints.assign(uID=footprints["uID"].astype(str)), roofs], ignore_index=True)
    households = np.maximum(1, np.round(footprints.area * 5 / 60)).astype(int)
    communities = gpd.GeoDataFrame({"community_code": ["CZ-001", "CZ-002"]}, geometry=outlines, crs=32633)
    buildings = gpd.GeoDataFrame({"building_id": footprints["uID"].astype(str), "households": households,
                                  "population": np.round(households * 2.2).astype(int)},
                                 geometry=footprints.geometry, crs=32633)
    result = partition(communities, buildings, roads=streets)
    assert len(result.grids) >= 6
    _assert_tiles(communities, buildings, result)
    grid_of = result.assignments.set_index("building_id")["grid_code"]
    inner = roofs["uID"].to_numpy()
    assert (grid_of[inner].to_numpy() == grid_of[[i.removesuffix("-inner") for i in inner]].to_numpy()).all()
    assert result.report["input_repairs"]["counts"]["nested_joined"] == len(roofs)


def test_cli_a_fault_of_the_engine_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    """Whatever goes wrong inside, the user gets one line, exit 1, and --out untouched."""
    import geogrid.partition

    def broken(*args, **kwargs):
        raise IndexError("index 1 is out of bounds for axis 0 with size 1")

    monkeypatch.setattr(geogrid.partition, "partition", broken)
    outline, footprints = _square_community()
    communities, buildings, _ = _frames([outline], footprints, [80] * len(footprints))
    result, out, _ = _cli(tmp_path, communities, buildings)
    assert result.exit_code == 1
    assert "internal error" in result.output and "IndexError" in result.output
    assert out.read_bytes() == b"an earlier plan"


def test_a_self_crossing_footprint_is_repaired_and_named():
    outline, footprints = _square_community()
    bowtie = shapely.Polygon([(X0 + 150, Y0 + 30), (X0 + 170, Y0 + 45), (X0 + 170, Y0 + 30), (X0 + 150, Y0 + 45)])
    communities, buildings, _ = _frames([outline], footprints + [bowtie], [80] * len(footprints) + [20])
    result = partition(communities, buildings)
    assert (shapely.get_type_id(result.grids.geometry.to_numpy()) == 3).all()
    assert result.grids["households"].sum() == buildings["households"].sum()
    [repair] = result.report["input_repairs"]["buildings"]
    assert (repair["building_id"], repair["repair"]) == (buildings["building_id"].iat[-1], "polygon_repaired")


def test_a_grid_that_can_only_be_in_pieces_is_flagged_with_the_reason():
    """A community in two parts (an empty exclave 100 m away): the exclave joins a grid, which is
    then in two parts and says why; every other grid is one polygon."""
    outline, footprints = _square_community()
    exclave = shapely.box(X0 + 300, Y0, X0 + 350, Y0 + 50)
    communities, buildings, _ = _frames([shapely.MultiPolygon([outline, exclave])], footprints, [80] * 16)
    grids = partition(communities, buildings).grids
    flags = [json.loads(text) for text in grids["flags"]]
    pieces = shapely.get_num_geometries(grids.geometry.to_numpy())
    split = [f for f in flags if any(x["rule"] == "several_parts" for x in f)]
    assert len(split) == 1 and (pieces > 1).sum() == 1
    assert "the community itself is in separate parts" in split[0][-1]["reason"]


def test_a_ring_of_two_points_is_read_and_named_not_a_reader_crash(tmp_path):
    """The reader used to stop on it with a GEOS error; now validation names the feature (the store's
    import refuses it, the engine keeps it as a point building)."""
    from geogrid.geo import validate
    from geogrid.geo.io import read_layer

    path = tmp_path / "buildings.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"building_id": "two-points", "households": 3, "population": 7},
         "geometry": {"type": "Polygon", "coordinates": [[[115.0, 25.0], [115.0001, 25.0]]]}}]}))
    layer = read_layer(path, name="buildings")
    with pytest.raises(InputError, match="two-points"):
        validate.validate_buildings(layer)
    kept = validate.validate_buildings(layer, keep_collapsed=True)
    assert kept.attrs["collapsed_ids"] == ["two-points"]
    assert kept.geometry.iat[0].distance(shapely.Point(115.00005, 25.0)) < 1e-9


def test_a_tower_drawn_inside_its_podium_is_still_split_by_its_units():
    """A 600-household tower with 4 units (单元) drawn inside a podium (裙楼) without households: the
    podium joins the tower, whose units are still shared out; every grid's counts are its rows'."""
    outline, footprints = _square_community()
    podium = shapely.box(X0 + 55, Y0 + 100, X0 + 130, Y0 + 160)
    tower = shapely.box(X0 + 70, Y0 + 110, X0 + 115, Y0 + 125)
    footprints = [f for f in footprints if not f.intersects(podium)] + [podium, tower]
    households = [80] * (len(footprints) - 2) + [0, 600]
    communities, buildings, _ = _frames([outline], footprints, households)
    buildings["units"] = [None] * (len(footprints) - 1) + [4]
    result = partition(communities, buildings)
    podium_id, tower_id = buildings["building_id"].iat[-2], buildings["building_id"].iat[-1]
    rows = result.assignments.set_index("building_id")
    assert (rows.loc[[tower_id], "units"] != "").all() and len(rows.loc[[tower_id]]) >= 2
    assert rows.at[podium_id, "grid_code"] in set(rows.loc[[tower_id], "grid_code"])
    per_grid = result.assignments.groupby("grid_code")["households"].sum()
    assert (per_grid.reindex(result.grids["grid_code"]).to_numpy() == result.grids["households"].to_numpy()).all()
    assert result.assignments["households"].sum() == sum(households)
    [repair] = result.report["input_repairs"]["buildings"]
    assert (repair["building_id"], repair["container"]) == (podium_id, tower_id)


def _two_part_building():
    """A building drawn as two squares 3 m apart (12 m, and a 0.8 m one pressed against the next
    building's wall: too small to seed the tessellation, it lies in that building's ground), in the
    lattice of ``_square_community``."""
    outline, footprints = _square_community()
    main = shapely.box(X0 + 60, Y0 + 60, X0 + 72, Y0 + 72)
    small = shapely.box(X0 + 75, Y0 + 66, X0 + 75.8, Y0 + 66.8)
    neighbour = shapely.box(X0 + 75.8, Y0 + 55, X0 + 90, Y0 + 80)
    two = shapely.MultiPolygon([main, small])
    footprints = [f for f in footprints if not f.intersects(shapely.buffer(two.union(neighbour), 3))]
    households = [90] * len(footprints) + [400, 60]
    return _frames([outline], footprints + [neighbour, two], households)


def test_a_building_in_two_parts_is_bridged_into_one_cell(monkeypatch):
    """Its cell was in two pieces, one inside the neighbour's cell, so its grid was in two parts;
    the pieces are joined through the ground between them: every grid one polygon, the building
    whole in one grid, no footprint cut, households conserved."""
    from geogrid.partition import contiguity

    communities, buildings, _ = _two_part_building()
    two_id = buildings["building_id"].iat[-1]
    with monkeypatch.context() as m:  # without the bridge (the engine before): a grid in two parts
        m.setattr(contiguity, "_bridge", lambda *args: False)
        before = partition(communities, buildings)
    assert before.report["total"]["grids_in_several_parts"] == 1
    assert "a cell of the grid is itself in separate pieces" in "".join(before.grids["flags"])

    result = partition(communities, buildings)
    _assert_tiles(communities, buildings, result)
    assert result.report["total"]["grids_in_several_parts"] == 0
    rows = result.assignments[result.assignments["building_id"] == two_id]
    assert len(rows) == 1 and rows["households"].iat[0] == 60
    grid = result.grids.to_crs(METRIC).set_index("grid_code").geometry[rows["grid_code"].iat[0]]
    assert shapely.get_type_id(grid) == 3
    assert grid.covers(buildings.to_crs(METRIC).geometry.iat[-1].buffer(-1e-6))  # both squares, whole
    assert result.grids["households"].sum() == buildings["households"].sum()


def test_a_bridge_never_cuts_a_footprint_nor_splits_a_neighbour():
    """Bridging on hand-made cells of one block: a building in two parts left and right of a
    neighbour whose footprint runs across the whole block cannot be joined (all cells unchanged); with
    the neighbour's footprint short of the block's edge, the ground beyond it joins the two parts and
    the neighbour's cell stays one polygon holding its footprint."""
    from geogrid.partition.contiguity import bridge_cells

    left, right = shapely.box(0, 0, 10, 20), shapely.box(14, 0, 24, 20)
    building = shapely.MultiPolygon([shapely.box(2, 2, 8, 18), shapely.box(16, 2, 22, 18)])
    middle = shapely.box(10, 0, 14, 20)
    block = np.array([0, 0])
    for across, bridged in ((shapely.box(11, 0, 13, 20), False), (shapely.box(11, 0, 13, 17), True)):
        cells = np.array([left.union(right), middle], dtype=object)
        out = bridge_cells(cells, block, np.array([building, across], dtype=object))
        assert bool(shapely.get_num_geometries(out[0]) == 1) == bridged
        assert shapely.get_type_id(out[1]) == 3 and out[1].covers(across)  # neighbour whole, footprint uncut
        assert out[0].covers(building) and not out[0].overlaps(out[1])
        assert shapely.area(out).sum() == pytest.approx(24 * 20)  # the block still tiled
