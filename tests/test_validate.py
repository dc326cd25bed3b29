"""Tests for geogrid.geo.validate: domain layers are cleaned or rejected with clear messages."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geogrid.geo import validate
from geogrid.errors import InputError

SQUARE = shapely.box(0, 0, 10, 10)
BOWTIE = shapely.from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))")
FLAT = shapely.from_wkt("POLYGON ((0 0, 1 1, 2 2, 0 0))")
LINE = shapely.LineString([(0, 0), (5, 5)])


def buildings(n: int = 3, geometry=None, **columns) -> gpd.GeoDataFrame:
    data = {
        "building_id": [f"B{i}" for i in range(1, n + 1)],
        "households": [10 * i for i in range(1, n + 1)],
        "population": [25 * i for i in range(1, n + 1)],
        **columns,
    }
    geometry = geometry or [shapely.box(i, 0, i + 0.5, 0.5) for i in range(n)]
    gdf = gpd.GeoDataFrame(data, geometry=geometry, crs=4547)
    gdf.attrs["source"] = "in/buildings.geojson"
    return gdf


def message(excinfo: pytest.ExceptionInfo) -> str:
    return str(excinfo.value)


# --- buildings -----------------------------------------------------------------------------


def test_valid_buildings_are_cleaned():
    raw = buildings(3, households=["10", 20.0, 30], compound=["A", None, "C"])
    raw.index = [7, 8, 9]
    out = validate.validate_buildings(raw)
    assert list(out.index) == [0, 1, 2] and list(out["_row"]) == [1, 2, 3]
    assert out["households"].dtype == np.int64 and list(out["households"]) == [10, 20, 30]
    assert out["population"].dtype == np.int64
    assert str(out["units"].dtype) == "Int64" and out["units"].isna().all()
    assert list(out["compound"]) == ["A", "", "C"] and list(out["address"]) == ["", "", ""]
    assert out.crs.to_epsg() == 4547 and out.attrs["repaired_ids"] == []


def test_numeric_ids_become_text_without_decimals():
    out = validate.validate_buildings(buildings(2, building_id=[1.0, 2.0]))
    assert list(out["building_id"]) == ["1", "2"]


def test_units_nullable_counts():
    out = validate.validate_buildings(buildings(3, units=[2, None, "4"]))
    assert out["units"].tolist() == [2, pd.NA, 4]


def test_shapefile_style_column_names_are_recognised():
    raw = buildings(2).rename(columns={"building_id": "BUILDING_I", "households": "Households"})
    out = validate.validate_buildings(raw)
    assert list(out["building_id"]) == ["B1", "B2"] and list(out["households"]) == [10, 20]


def test_missing_columns_listed_with_present_ones():
    with pytest.raises(InputError) as info:
        validate.validate_buildings(buildings(2).drop(columns=["population", "households"]))
    text = message(info)
    assert "in/buildings.geojson" in text
    assert "missing column(s) households, population" in text and "the file has: building_id" in text


def test_bad_counts_name_rows_values_and_reasons():
    raw = buildings(5, households=[10, "abc", -3, 2.5, None], population=[1, 2, 3, 4, "x"])
    with pytest.raises(InputError) as info:
        validate.validate_buildings(raw)
    text = message(info)
    assert "buildings file in/buildings.geojson" in text
    assert "column 'households'" in text and "column 'population'" in text
    assert "feature 2 (building_id 'B2'): 'abc' not a number" in text
    assert "feature 3 (building_id 'B3'): -3 negative" in text
    assert "feature 4 (building_id 'B4'): 2.5 not a whole number" in text
    assert "feature 5 (building_id 'B5'): (empty) missing" in text


def test_bad_counts_capped_at_twenty():
    raw = buildings(25, households=[-1] * 25)
    with pytest.raises(InputError, match="and 5 more"):
        validate.validate_buildings(raw)


def test_csv_input_counts_spreadsheet_rows():
    raw = buildings(2, households=[1, "many"])
    raw.attrs["row_numbering"] = "csv"
    with pytest.raises(InputError, match=r"row 3 \(building_id 'B2'\): 'many' not a number") as info:
        validate.validate_buildings(raw)
    assert "the header is row 1" in message(info)


def test_duplicate_ids_named_with_their_features():
    with pytest.raises(InputError) as info:
        validate.validate_buildings(buildings(4, building_id=["A", "B", "A", "B"]))
    text = message(info)
    assert "building_id must be unique" in text
    assert "'A' at features 1, 3" in text and "'B' at features 2, 4" in text


def test_missing_ids_named():
    with pytest.raises(InputError, match="building_id is missing at feature 2, feature 3"):
        validate.validate_buildings(buildings(3, building_id=["A", None, "  "]))


def test_null_and_empty_geometries_named():
    raw = buildings(3, geometry=[SQUARE, None, shapely.Polygon()])
    with pytest.raises(InputError, match=r"no geometry \(null or empty\) at feature 2 \(building_id 'B2'\), feature 3"):
        validate.validate_buildings(raw)


def test_non_polygons_named_with_their_type():
    raw = buildings(2, geometry=[SQUARE, LINE])
    with pytest.raises(InputError, match=r"Polygon or MultiPolygon; found feature 2 \(building_id 'B2'\): LineString"):
        validate.validate_buildings(raw)


def test_invalid_polygons_repaired_and_reported(caplog):
    raw = buildings(2, geometry=[SQUARE, BOWTIE])
    out = validate.validate_buildings(raw)
    assert out.attrs["repaired_ids"] == ["B2"] and "B2" in caplog.text
    assert out.geometry.is_valid.all() and out.geometry.iloc[1].geom_type == "MultiPolygon"
    assert out.geometry.iloc[1].area == pytest.approx(2.0)


def test_validate_polygons_returns_repaired_ids():
    gdf = gpd.GeoDataFrame({"code": ["x", "y", "z"]}, geometry=[BOWTIE, SQUARE, BOWTIE])
    out, repaired = validate.validate_polygons(gdf, name="areas", id_column="code")
    assert repaired == ["x", "z"] and out.geometry.is_valid.all()


def test_unrepairable_polygon_named():
    raw = buildings(2, geometry=[SQUARE, FLAT])
    with pytest.raises(InputError, match=r"cannot be repaired.*feature 2 \(building_id 'B2'\)"):
        validate.validate_buildings(raw)


# --- generic checks ------------------------------------------------------------------------


def test_require_columns():
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[SQUARE])
    validate.require_columns(gdf, ["a"], name="x")
    with pytest.raises(InputError, match="x: missing column\\(s\\) b, c; the file has: a"):
        validate.require_columns(gdf, ["a", "b", "c"], name="x")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=30), st.booleans())
def test_require_counts_accepts_whole_numbers_in_any_form(values, as_text):
    column = [str(v) for v in values] if as_text else [float(v) for v in values]
    gdf = gpd.GeoDataFrame({"n": column}, geometry=[SQUARE] * len(values))
    out = validate.require_counts(gdf, ["n"], name="x")
    assert out["n"].dtype == np.int64 and out["n"].tolist() == values


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.integers(-1000, -1), st.floats(0.01, 0.99), st.text("xyz", min_size=1)), min_size=1))
def test_require_counts_rejects_every_bad_value(bad):
    gdf = pd.DataFrame({"n": [1, *bad]})
    with pytest.raises(InputError) as info:
        validate.require_counts(gdf, ["n"], name="x")
    assert "feature 2" in message(info) and ("more" in message(info)) == (len(bad) > 20)


def test_require_counts_allow_null():
    gdf = pd.DataFrame({"n": [1, None, "3"]})
    out = validate.require_counts(gdf, ["n"], name="x", allow_null=True)
    assert str(out["n"].dtype) == "Int64" and out["n"].tolist() == [1, pd.NA, 3]
    with pytest.raises(InputError, match="may not be missing"):
        validate.require_counts(gdf, ["n"], name="x")


def test_require_unique_on_plain_frame():
    validate.require_unique(pd.DataFrame({"id": [1, 2, None, None]}), "id", name="x")
    with pytest.raises(InputError, match="1 value\\(s\\) repeat: 7 at features 1, 3"):
        validate.require_unique(pd.DataFrame({"id": [7, 8, 7]}), "id", name="x")


# --- communities, villager groups, roads --------------------------------------------------


def communities(**columns) -> gpd.GeoDataFrame:
    data = {"community_code": ["110105001", "110105002"], **columns}
    return gpd.GeoDataFrame(data, geometry=[SQUARE, shapely.box(10, 0, 20, 10)], crs=4547)


def test_communities_defaults():
    out = validate.validate_communities(communities())
    assert list(out["kind"]) == ["urban", "urban"] and list(out["name"]) == ["", ""]


def test_communities_kind_normalised_and_checked():
    out = validate.validate_communities(communities(kind=[" Rural", None], name=["东湖社区", "西村"]))
    assert list(out["kind"]) == ["rural", "urban"] and list(out["name"]) == ["东湖社区", "西村"]
    with pytest.raises(InputError, match=r"kind must be 'urban' or 'rural'.*feature 2 \(community_code '110105002'\): 'town'"):
        validate.validate_communities(communities(kind=["urban", "town"]))


def test_communities_duplicate_codes():
    with pytest.raises(InputError, match="community_code must be unique.*'1' at features 1, 2"):
        validate.validate_communities(communities(community_code=[1, 1]))


def test_villager_groups():
    gdf = gpd.GeoDataFrame(
        {"group_id": ["g1", "g2"], "population": [120, "80"], "community_code": ["c1", None]},
        geometry=[SQUARE, SQUARE],
    )
    out = validate.validate_villager_groups(gdf)
    assert list(out["population"]) == [120, 80] and out["households"].isna().all()
    assert list(out["community_code"]) == ["c1", ""]
    with pytest.raises(InputError, match="missing column\\(s\\) population"):
        validate.validate_villager_groups(gdf.drop(columns="population"))
    with pytest.raises(InputError, match="group_id must be unique"):
        validate.validate_villager_groups(gdf.assign(group_id=["g", "g"]))


def test_roads_drop_empty_and_reject_other_types():
    multi = shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3)]])
    gdf = gpd.GeoDataFrame({"name": ["a", "b", "c", "d"]}, geometry=[LINE, None, shapely.LineString(), multi])
    out = validate.validate_roads(gdf)
    assert list(out["name"]) == ["a", "d"] and list(out["_row"]) == [1, 4]
    bad = gpd.GeoDataFrame(geometry=[LINE, None, SQUARE])
    with pytest.raises(InputError, match="LineString or MultiLineString.*feature 3: Polygon"):
        validate.validate_roads(bad)
