"""Density maps: H3 counts, per-grid rates and Getis-Ord Gi* hot spots with a false-discovery-rate rule."""

from __future__ import annotations

import json

import geopandas as gpd
import h3
import numpy as np
import pytest
import shapely

from geogrid.incidents.density import contiguity, grid_density, h3_density, h3_resolution_for_zoom, hot_spots

X0, Y0, SIDE = 114.93, 25.83, 0.005  # Ganzhou; grids about 500 m across


def lattice(n: int, island: bool = False) -> gpd.GeoDataFrame:
    """n x n square grids (codes G<row>-<col>), optionally with one detached grid far away."""
    cells = [shapely.box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE, Y0 + (j + 1) * SIDE)
             for j in range(n) for i in range(n)]
    codes = [f"G{j:02d}-{i:02d}" for j in range(n) for i in range(n)]
    if island:
        cells.append(shapely.box(X0 + 2, Y0 + 2, X0 + 2 + SIDE, Y0 + 2 + SIDE))
        codes.append("ISLAND")
    return gpd.GeoDataFrame({"grid_code": codes, "households": 400}, geometry=cells, crs=4326)


def test_resolution_table() -> None:
    assert h3_resolution_for_zoom(10) == 7
    assert h3_resolution_for_zoom(16) == 10
    resolutions = [h3_resolution_for_zoom(z) for z in range(0, 23)]
    assert resolutions == sorted(resolutions) and all(0 <= r <= 15 for r in resolutions)


def test_h3_counts_sum_to_the_points() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(X0, X0 + 0.1, 5000), rng.uniform(Y0, Y0 + 0.1, 5000)
    found = h3_density(lon, lat, 8)
    counts = [f["properties"]["count"] for f in found["features"]]
    assert sum(counts) == 5000 and len(counts) > 10
    first = found["features"][0]
    assert h3.get_resolution(first["properties"]["h3"]) == 8
    ring = first["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    centre = shapely.Polygon(ring).centroid  # lon/lat order: the hexagon holds its own cell's centre
    assert h3.latlng_to_cell(centre.y, centre.x, 8) == first["properties"]["h3"]
    json.dumps(found)


def test_h3_same_cell_for_the_same_point_and_empty_input() -> None:
    found = h3_density(np.array([X0, X0]), np.array([Y0, Y0]), 10)
    assert [f["properties"]["count"] for f in found["features"]] == [2]
    assert h3_density(np.array([]), np.array([]), 9)["features"] == []


def test_grid_density_counts_and_rates() -> None:
    grids = lattice(2)
    found = grid_density(grids, {"G00-00": 8, "G01-01": 2}, {"G00-00": 400, "G00-01": 0, "G01-00": 200})
    props = {f["properties"]["grid_code"]: f["properties"] for f in found["features"]}
    assert props["G00-00"] == {"grid_code": "G00-00", "count": 8, "per_1000_households": pytest.approx(20.0)}
    assert props["G01-00"]["count"] == 0 and props["G01-00"]["per_1000_households"] == pytest.approx(0.0)
    assert props["G00-01"]["per_1000_households"] is None  # no households
    assert props["G01-01"]["per_1000_households"] is None  # absent from households
    by_column = grid_density(grids, {"G00-00": 8}, None)  # the frame's households column
    assert by_column["features"][0]["properties"]["per_1000_households"] == pytest.approx(20.0)
    json.dumps(found)


def _labels(found: dict) -> dict[str, str]:
    return {f["properties"]["grid_code"]: f["properties"]["label"] for f in found["features"]}


def test_a_planted_cluster_is_hot() -> None:
    grids = lattice(20)
    rng = np.random.default_rng(7)
    counts = dict(zip(grids["grid_code"], rng.poisson(5, len(grids)).tolist(), strict=True))
    cluster = {f"G{j:02d}-{i:02d}" for j in range(4, 9) for i in range(11, 16)}
    counts |= {code: 40 for code in cluster}
    found = hot_spots(grids, counts, permutations=999, seed=0)
    labels = _labels(found)
    hot = {code for code, label in labels.items() if label == "hot"}
    core = {f"G{j:02d}-{i:02d}" for j in range(5, 8) for i in range(12, 15)}
    assert core <= hot  # the cluster's inside is found
    assert hot <= {f"G{j:02d}-{i:02d}" for j in range(3, 10) for i in range(10, 17)}  # nothing far from it
    props = next(f["properties"] for f in found["features"] if f["properties"]["grid_code"] == "G06-13")
    assert props["z"] > 3 and props["p_adjusted"] <= 0.05 and props["p_value"] <= props["p_adjusted"]
    assert props["significant"] is True
    json.dumps(found)


def test_a_uniform_field_has_no_hot_spot_after_fdr() -> None:
    grids = lattice(20)
    counts = dict(zip(grids["grid_code"], np.random.default_rng(3).poisson(10, len(grids)).tolist(), strict=True))
    found = hot_spots(grids, counts, permutations=999, seed=0)
    assert set(_labels(found).values()) == {"not significant"}
    raw = [f["properties"]["p_value"] for f in found["features"]]
    assert min(raw) < 0.05  # some grids pass an uncorrected test by chance; the FDR rule rejects them


def test_hot_spots_are_deterministic_and_islands_get_a_neighbour() -> None:
    grids = lattice(6, island=True)
    counts = {code: (30 if code.startswith("G00") else 3) for code in grids["grid_code"]}
    first = hot_spots(grids, counts, permutations=199, seed=5)
    again = hot_spots(grids, counts, permutations=199, seed=5)
    assert first == again
    assert "ISLAND" in _labels(first)
    weights = contiguity(grids)
    assert weights.islands == [] and weights.cardinalities[len(grids) - 1] == 1
    rates = hot_spots(grids, counts, households={"G00-00": 100}, permutations=99, seed=1)
    values = {f["properties"]["grid_code"]: f["properties"]["value"] for f in rates["features"]}
    assert values["G00-00"] == pytest.approx(300.0) and values["G00-01"] == 0.0


def test_per_1000_households_twins_agree() -> None:
    from geogrid.incidents.density import per_1000_households, per_1000_households_array

    counts = [0, 8, 3, 5, 2]
    households = [400, 400, 0, 1, 250]
    python = [per_1000_households(n, h) for n, h in zip(counts, households, strict=True)]
    array = per_1000_households_array(np.array(counts), np.array(households, dtype=float))
    assert python == [0.0, 20.0, None, 5000.0, 8.0]
    assert [None if np.isnan(v) else v for v in array.tolist()] == python
    zero_filled = per_1000_households_array(np.array(counts), np.array([400, 400, np.nan, 1, 250]), fill=0.0)
    assert zero_filled.tolist() == [0.0, 20.0, 0.0, 5000.0, 8.0]  # unknown households: filled too
