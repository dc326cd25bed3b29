"""The lon/lat box around an area that the spatial index prefilters with."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geogrid.store.spatial import box_around

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("bounds", [(115.9, 28.6, 115.9, 28.6), (115.9, 28.6, 116.3, 29.4), (120.0, 52.0, 121.0, 53.5),
                                    (100.0, -1.0, 100.5, 0.5)])
def test_box_around_holds_every_point_within_the_distance(bounds: tuple[float, float, float, float]) -> None:
    minx, miny, maxx, maxy = bounds
    corners = np.tile([(minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)], (360, 1))
    azimuths = np.repeat(np.arange(0.0, 360.0, 1.0), 4)
    for metres in (30.0, 500.0, 2000.0):
        lon, lat, _ = GEOD.fwd(corners[:, 0], corners[:, 1], azimuths, np.full(len(azimuths), metres))
        west, south, east, north = box_around(bounds, metres)
        assert (west <= lon).all() and (lon <= east).all() and (south <= lat).all() and (lat <= north).all()
        assert east - maxx < 3 * metres / 111_000 / np.cos(np.radians(max(abs(miny), abs(maxy)))) + 1e-9  # not much more
