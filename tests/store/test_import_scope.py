"""The area codes an upload's rows lie in, read once by the store for the API's scope check."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geogrid.store.imports import area_codes

from .conftest import write_layers


def test_area_codes_name_each_layers_own_or_community_codes(layers: dict[str, gpd.GeoDataFrame],
                                                            tmp_path: Path) -> None:
    paths = write_layers(layers, tmp_path / "upload")
    (tmp_path / "broken.geojson").write_text("not json", encoding="utf-8")
    found = area_codes(paths | {"streets": tmp_path / "broken.geojson"}, None)
    assert found == {
        "districts": ["360702"],
        "communities": ["360702001001", "360702002001"],
        "buildings": ["360702001001", "360702002001"],
        "villager_groups": ["360702002001"],
    }  # roads name no area; the unreadable streets file is left to the import
