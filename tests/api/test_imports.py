"""POST /api/v1/imports: all or nothing, every bad row listed, size, type and zip checks, who may."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from geogrid.db.models import AuditLog, Building, Street
from geogrid.db.session import session_scope

from .conftest import District

URL = "/api/v1/imports"


def geojson_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    return gdf.to_json(drop_id=True).encode()


def some_buildings(district: District, code: str, n: int = 6) -> gpd.GeoDataFrame:
    buildings = district.layers["buildings"]
    return buildings[buildings["community_code"] == code].head(n).reset_index(drop=True)


def counts(store: Engine) -> tuple[int, int, int, int]:
    """Rows in buildings, streets and the audit log, and the buildings' total households."""
    with session_scope(store) as session:
        return (
            session.scalar(select(func.count()).select_from(Building)),
            session.scalar(select(func.count()).select_from(Street)),
            session.scalar(select(func.count()).select_from(AuditLog)),
            session.scalar(select(func.sum(Building.households))),
        )


def test_an_import_upserts_the_layers_and_audits_them(
    client: TestClient, auth, district: District, store: Engine
) -> None:
    code = district.urban()
    buildings = some_buildings(district, code)
    buildings["households"] = buildings["households"] + 1
    roads = district.layers["roads"].head(3)
    files = {
        "buildings": ("b.geojson", geojson_bytes(buildings), "application/geo+json"),
        "roads": ("roads.geojson", geojson_bytes(roads), "application/octet-stream"),
    }
    answer = client.post(URL, files=files, headers=auth("planner"))
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"imported": {"buildings": len(buildings), "roads": 3}}
    with session_scope(store) as session:
        stored = {
            b.id: b.households
            for b in session.scalars(select(Building).where(Building.id.in_(list(buildings["building_id"]))))
        }
        assert stored == dict(zip(buildings["building_id"], buildings["households"], strict=True))
        rows = session.scalars(select(AuditLog).where(AuditLog.action == "import").order_by(AuditLog.id)).all()
        new = [(r.username, r.object_id, r.after["updated"]) for r in rows if r.username == "planner"]
        assert new == [("planner", "buildings", len(buildings)), ("planner", "roads", 3)]


def test_one_bad_row_rejects_every_file_and_lists_every_bad_row(
    client: TestClient, auth, district: District, store: Engine
) -> None:
    before = counts(store)
    streets = district.layers["streets"].head(2).copy()
    streets["street_code"] = ["360702-009", "360702-010"]
    streets["district_code"] = ["360702", "999999"]  # the second names no known district
    buildings = some_buildings(district, district.urban())
    buildings.loc[1, "households"] = -3
    buildings.loc[4, "population"] = None
    files = {
        "streets": ("streets.geojson", geojson_bytes(streets), "application/geo+json"),
        "buildings": ("bad-buildings.geojson", geojson_bytes(buildings), "application/geo+json"),
    }
    answer = client.post(URL, files=files, headers=auth("admin"))
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith("import rejected, the store was not changed")
    assert "bad-buildings.geojson" in detail and "/tmp" not in detail and "geogrid-upload" not in detail
    for row in (buildings.loc[1, "building_id"], buildings.loc[4, "building_id"], "'360702-010'", "'999999'"):
        assert row in detail, row
    assert "360702-009" not in detail
    assert counts(store) == before


def test_codes_outside_the_uploaders_scope_are_refused(
    client: TestClient, auth, district: District, store: Engine
) -> None:
    before = counts(store)
    files = {
        "buildings": (
            "b.geojson",
            geojson_bytes(some_buildings(district, district.other_street_community())),
            "application/geo+json",
        )
    }
    answer = client.post(URL, files=files, headers=auth("planner"))
    assert answer.status_code == 403
    assert (
        "outside your scope" in answer.json()["detail"] and district.other_street_community() in answer.json()["detail"]
    )
    for username in ("leader", "worker", "staff"):
        assert client.post(URL, files=files, headers=auth(username)).status_code == 403
    assert counts(store) == before


def test_oversized_uploads_get_413(client: TestClient, auth, store: Engine) -> None:
    before = counts(store)
    big = b'{"type": "FeatureCollection", "features": []' + b" " * (1024 * 1024 + 10) + b"}"
    answer = client.post(URL, files={"buildings": ("b.geojson", big, "application/geo+json")}, headers=auth("admin"))
    assert answer.status_code == 413
    assert answer.json() == {"detail": "the upload is larger than the limit of 1 MB (GEOGRID_MAX_UPLOAD_MB)"}
    boundary = "x-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="buildings"; filename="b.geojson"\r\n'
            f"Content-Type: application/geo+json\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    headers = auth("admin") | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    streamed = client.post(URL, content=chunks(), headers=headers)
    assert streamed.status_code == 413 and "larger than the limit" in streamed.json()["detail"]
    assert counts(store) == before


def test_wrong_content_types_get_415(reader: TestClient, auth, district: District) -> None:
    headers = auth("admin")
    answer = reader.post(URL, json={"buildings": "x"}, headers=headers)
    assert answer.status_code == 415 and "multipart/form-data" in answer.json()["detail"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    good = geojson_bytes(some_buildings(district, district.urban()))
    for upload, says in (
        (("photo.png", png, "image/png"), "unsupported file type"),
        (("b.geojson", png, "application/geo+json"), "not a .geojson file"),
        (("b.geojson", good, "image/png"), "declared as image/png"),
        (("b.zip", good, "application/zip"), "not a .zip file"),
        (("b.gpkg", good, "application/octet-stream"), "not a .gpkg file"),
    ):
        answer = reader.post(URL, files={"buildings": upload}, headers=headers)
        assert answer.status_code == 415, upload[0]
        assert says in answer.json()["detail"]


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "says"),
    [
        ({"../../etc/evil.shp": b"x" * 100, "ok.dbf": b"y"}, "climb out"),
        ({"/abs/evil.shp": b"x" * 100}, "climb out"),
        ({"bomb.shp": b"\x00" * (20 * 1024 * 1024)}, "unpacks to 20 MB"),
    ],
)
def test_unsafe_zips_get_400(reader: TestClient, auth, members: dict[str, bytes], says: str) -> None:
    data = zipped(members)
    assert len(data) < 1024 * 1024
    answer = reader.post(URL, files={"buildings": ("b.zip", data, "application/zip")}, headers=auth("admin"))
    assert answer.status_code == 400
    assert says in answer.json()["detail"]


@pytest.mark.filterwarnings("ignore:Column names longer", "ignore:Normalized/laundered")
def test_a_zipped_shapefile_imports(client: TestClient, auth, district: District, tmp_path: Path) -> None:
    buildings = some_buildings(district, district.urban())
    buildings.to_file(tmp_path / "buildings.shp", engine="pyogrio", encoding="UTF-8")
    data = zipped({p.name: p.read_bytes() for p in tmp_path.glob("buildings.*")})
    answer = client.post(URL, files={"buildings": ("buildings.zip", data, "application/zip")}, headers=auth("planner"))
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"imported": {"buildings": len(buildings)}}


def test_malformed_files_and_fields_get_422_naming_the_problem(reader: TestClient, auth, district: District) -> None:
    headers = auth("admin")
    for files, data, says in (
        (
            {"buildings": ("b.geojson", b'{"type": "FeatureCollection", "features": [', "application/geo+json")},
            None,
            "b.geojson: cannot be read",
        ),
        ({"buildings": ("b.geojson", b"", "application/geo+json")}, None, "empty"),
        ({"houses": ("b.geojson", b"{}", "application/geo+json")}, None, "unknown form field(s) houses"),
        (
            {"buildings": ("b.geojson", geojson_bytes(some_buildings(district, district.urban())), "application/json")},
            {"input_crs": "EPSG:999999"},
            "EPSG:999999",
        ),
    ):
        answer = reader.post(URL, files=files, data=data, headers=headers)
        assert answer.status_code == 422, (says, answer.text)
        assert says in json.dumps(answer.json()["detail"], ensure_ascii=False)
    fields_only = b'--b\r\nContent-Disposition: form-data; name="input_crs"\r\n\r\nEPSG:4326\r\n--b--\r\n'
    answer = reader.post(
        URL, content=fields_only, headers=headers | {"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert answer.status_code == 422 and answer.json()["detail"].startswith("no files")
