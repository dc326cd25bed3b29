"""Stable plans: the same district in any input CRS gives the same grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from geogrid.geo.crs import metric_crs
from geogrid.geo.precision import SNAP_M, cell_positions, snap_geometries
from tests.crs_variants import agreement, read_sample, run, variants

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
# Communities of the sample where plans moved with nanometres of noise before coordinates were snapped
# (17 buildings in another grid over the whole sample), and a village.
COMMUNITIES = ["360702-002-004", "360702-002-006", "360702-003-002"]


def test_the_same_district_in_any_input_crs_gives_the_same_plan():
    plans = {name: run(layers) for name, layers in variants(read_sample(SAMPLE, COMMUNITIES)).items()}
    reference = plans.pop("wgs84")
    assert len(reference.assignments) > 300
    for name, plan in plans.items():
        found = agreement(reference, plan)
        assert found["same_share"] >= 0.999, (name, found)


def test_the_metric_crs_is_the_same_for_equivalent_inputs():
    chosen = {name: str(metric_crs(layers["communities"])) for name, layers in variants(read_sample(SAMPLE)).items()}
    assert set(chosen.values()) == {"EPSG:4547"}, chosen


def test_snapping_makes_nanometre_noise_vanish_and_keeps_tiny_footprints():
    rng = np.random.default_rng(3)
    corners = rng.uniform(0, 100, (50, 2)) + np.array([593_000.0, 2_858_000.0])
    boxes = shapely.box(corners[:, 0], corners[:, 1], corners[:, 0] + 12.3456789, corners[:, 1] + 7.654321)
    noisy = shapely.transform(boxes, lambda xy: xy + 5e-9 * np.sin(xy * 1e6))  # equal points stay equal
    assert not shapely.equals_exact(boxes, noisy, 0).all()
    a, b = snap_geometries(boxes), snap_geometries(noisy)
    # a coordinate within 5 nm of a half-step of the grid could still round apart; none here
    assert shapely.equals_exact(a, b, 0).all()
    assert np.allclose(np.round(shapely.get_coordinates(a) / SNAP_M), shapely.get_coordinates(a) / SNAP_M, atol=1e-3)
    sliver = shapely.box(0, 0, 10, SNAP_M / 10)  # narrower than the grid: kept as it was, not emptied
    assert snap_geometries(np.array([sliver]))[0].equals(sliver)


def test_cell_positions_move_with_the_cell_not_with_noise():
    # an L whose inner corner lies on the middle line of its box: 2e-9 m moves its point on the surface 25 m
    ell = shapely.Polygon([(0, 0), (40, 0), (40, 20), (10, 20), (10, 40), (0, 40)])
    nudged = shapely.Polygon([(0, 0), (40, 0), (40, 20 + 2e-9), (10, 20 + 2e-9), (10, 40), (0, 40)])
    assert shapely.distance(shapely.point_on_surface(ell), shapely.point_on_surface(nudged)) > 20
    assert np.array_equal(cell_positions(np.array([ell])), cell_positions(np.array([nudged])))
    assert np.allclose(cell_positions(np.array([ell]))[0], [17.0, 14.0])
