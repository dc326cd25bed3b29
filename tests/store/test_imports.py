"""Importing layers: round trip, upserts, all-or-nothing rejection and spatial queries."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import Engine, func, select

from geogrid.db.models import AuditLog, Building, Community, District, Road, Street, VillagerGroup
from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.store import imports
from geogrid.store.imports import import_files, import_layer

from .conftest import write_layers

MODELS = {
    "districts": District,
    "streets": Street,
    "communities": Community,
    "buildings": Building,
    "roads": Road,
    "villager_groups": VillagerGroup,
}


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        counts = {kind: session.scalar(select(func.count()).select_from(m)) for kind, m in MODELS.items()}
        counts["audit"] = session.scalar(select(func.count()).select_from(AuditLog))
        return counts


def test_round_trip(engine: Engine, layers: dict[str, gpd.GeoDataFrame], layer_files: dict[str, Path]) -> None:
    with session_scope(engine) as session:
        counts = import_files(session, layer_files, username="admin")
    assert counts == {kind: len(gdf) for kind, gdf in layers.items()}
    with session_scope(engine) as session:
        district = session.get(District, "360702")
        assert district is not None and district.name == "章贡区"
        assert to_shape(district.geom).equals_exact(MultiPolygon([layers["districts"].geometry[0]]), 1e-9)
        assert session.get(Street, "360702002").kind == "town"
        village = session.get(Community, "360702002001")
        assert (village.kind, village.street_code, village.name) == ("rural", "360702002", "腊长村")
        tower = session.get(Building, "U0")
        assert (tower.households, tower.population, tower.units, tower.floors) == (120, 300, 6, 18)
        assert tower.compound == "和平小区" and tower.community_code == "360702001001"
        assert session.get(Building, "R0").units is None
        assert to_shape(session.get(Road, "r1").geom).geom_type == "MultiLineString"
        assert session.get(VillagerGroup, "G2").households == 10
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "import")).all()
        assert {a.object_id for a in audit} == set(layers) and {a.username for a in audit} == {"admin"}


def test_shapefile_with_truncated_names(engine: Engine, layers: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> None:
    paths = write_layers({k: layers[k] for k in ("districts", "streets", "communities")}, tmp_path)
    paths["buildings"] = tmp_path / "buildings.shp"
    with warnings.catch_warnings():  # Shapefile field names are cut to 10 characters: community_
        warnings.simplefilter("ignore")
        layers["buildings"].to_file(paths["buildings"], engine="pyogrio")
    with session_scope(engine) as session:
        assert import_files(session, paths)["buildings"] == 9
    with session_scope(engine) as session:
        assert session.get(Building, "R2").community_code == "360702002001"


def test_import_layer_upserts(engine: Engine, layers: dict[str, gpd.GeoDataFrame]) -> None:
    with session_scope(engine) as session:
        for kind in ("districts", "streets", "communities", "buildings"):
            import_layer(session, kind, layers[kind])
    changed = layers["buildings"].iloc[:2].copy()
    changed["households"] = [1, 2]
    with session_scope(engine) as session:
        assert import_layer(session, "buildings", changed) == 2
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Building)) == 9
        assert [session.get(Building, b).households for b in ("U0", "U1", "U2")] == [1, 2, 60]


def test_bad_rows_reject_everything(engine: Engine, layers: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> None:
    with session_scope(engine) as session:
        import_files(session, write_layers({k: layers[k] for k in ("districts", "streets")}, tmp_path / "a"))
    before = _counts(engine)
    communities = layers["communities"].copy()
    communities.loc[1, "street_code"] = "999999999"  # no such street
    buildings = layers["buildings"].copy()
    buildings.loc[3, "community_code"] = "nowhere"
    buildings.loc[7, "floors"] = -2
    bad = {"communities": communities, "buildings": buildings, "roads": layers["roads"]}
    with pytest.raises(InputError) as caught:
        import_files(engine.url.render_as_string(hide_password=False), write_layers(bad, tmp_path / "b"))
    message = str(caught.value)
    assert "store was not changed" in message
    assert "360702002001" in message and "999999999" in message
    assert "U3" in message and "nowhere" in message and "R1" in message and "floors" in message
    assert _counts(engine) == before


def test_unreadable_file_and_bad_rows_reported_together(
    engine: Engine, layers: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    paths = write_layers({"districts": layers["districts"]}, tmp_path)
    paths["streets"] = tmp_path / "missing.geojson"
    no_people = layers["buildings"].drop(columns=["population"])
    paths["buildings"] = write_layers({"buildings": no_people}, tmp_path / "b")["buildings"]
    with session_scope(engine) as session, pytest.raises(InputError) as caught:
        import_files(session, paths)
    message = str(caught.value)
    assert "missing.geojson" in message and "population" in message
    assert _counts(engine)["districts"] == 0


def test_failure_while_writing_rolls_back(
    engine: Engine, layer_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = imports.write_layer

    def failing(session, kind, gdf, **kw):
        if kind == "buildings":
            raise RuntimeError("disk full")
        return real(session, kind, gdf, **kw)

    monkeypatch.setattr(imports, "write_layer", failing)
    with pytest.raises(RuntimeError):
        import_files(engine.url.render_as_string(hide_password=False), layer_files)
    assert set(_counts(engine).values()) == {0}


def test_unknown_parent_in_store_is_a_bad_row(engine: Engine, layers: dict[str, gpd.GeoDataFrame]) -> None:
    with session_scope(engine) as session, pytest.raises(InputError, match="360702001"):
        import_layer(session, "communities", layers["communities"])


def test_bbox_query(loaded: Engine, layers: dict[str, gpd.GeoDataFrame]) -> None:
    bounds = layers["buildings"].total_bounds
    bbox = box(bounds[0], bounds[1], (bounds[0] + bounds[2]) / 2, bounds[3])
    expected = set(layers["buildings"][layers["buildings"].intersects(bbox)]["building_id"])
    query = select(Building.id).where(func.ST_Intersects(Building.geom, func.ST_GeomFromText(bbox.wkt, 4326)))
    with session_scope(loaded) as session:
        found = set(session.scalars(query))
        area = session.scalar(select(func.ST_Area(District.geom)))
    assert found == expected and 0 < len(found) < len(layers["buildings"])
    assert area == pytest.approx(layers["districts"].geometry[0].area)
