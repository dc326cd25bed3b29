"""The production path on PostGIS, as the README tells it: a database owned by a role that is not a superuser
(PostGIS made by the DBA beforehand), db upgrade, import of the sample layers, user add, plans partition
--publish, serve; then GIS clients read it: GDAL's OAPIF driver every collection with its default page size,
OWSLib the landing page, conformance, collections, items and queryables, and the vector tiles and TileJSON."""

from __future__ import annotations

import math
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import mapbox_vector_tile
import psycopg
import pyogrio
import pytest
from owslib.ogcapi.features import Features
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cli.main import app
from tests.store.conftest import PG_ADMIN_URL, _admin_conninfo
from tests.store.test_cli_messages import head


ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
LAYERS = {"districts": "district", "streets": "streets", "communities": "communities", "buildings": "buildings",
          "roads": "roads", "villager-groups": "villager_groups"}
COMMUNITIES = ["360702-001-001", "360702-003-001"]  # a town community and a village, to keep the run short
PASSWORD = "a-planner-password"
runner = CliRunner()


@dataclass(frozen=True)
class Database:
    """A database owned by a role that is not a superuser."""

    url: str
    name: str
    role: str


@contextmanager
def owned_database(*, with_postgis: bool) -> Iterator[Database]:
    """CREATE ROLE ... LOGIN; CREATE DATABASE ... OWNER it; CREATE EXTENSION postgis as postgres when asked."""
    suffix = secrets.token_hex(4)
    name, role = f"geogrid_prod_{suffix}", f"geogrid_owner_{suffix}"
    with psycopg.connect(_admin_conninfo(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    if with_postgis:
        admin = make_url(PG_ADMIN_URL).set(database=name).set(drivername="postgresql")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
    url = make_url(PG_ADMIN_URL).set(database=name, username=role, password=None)
    try:
        yield Database(url.render_as_string(hide_password=False), name, role)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def geogrid(*args: str, url: str, stdin: str | None = None) -> str:
    """Run a geogrid command as the README writes it; its standard output, or the test fails with its output."""
    result = runner.invoke(app, [*args, "--database-url", url], input=stdin)
    assert result.exit_code == 0, f"geogrid {' '.join(args)}: {result.output}"
    return result.stdout


def test_db_upgrade_without_postgis_says_what_to_run_in_one_line() -> None:
    with owned_database(with_postgis=False) as db:
        result = runner.invoke(app, ["db", "upgrade", "--database-url", db.url])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"PostGIS is not enabled in database {db.name}" in message and db.role in message
    assert "CREATE EXTENSION postgis;" in message


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], str, Path]]:
    """The README's production commands in order on a fresh database, then `geogrid serve` on 127.0.0.1 (stopped
    afterwards): the base URL, a planner's Authorization header, the database URL and the data folder."""
    with owned_database(with_postgis=True) as db:
        assert geogrid("db", "upgrade", url=db.url).strip() == f"created the store (schema {head()})"
        assert geogrid("db", "upgrade", url=db.url).strip() == f"the store is up to date (schema {head()})"
        files = [a for option, name in LAYERS.items() for a in (f"--{option}", str(SAMPLE / f"{name}.geojson"))]
        imported = geogrid("import", *files, url=db.url)
        assert "communities: 27 rows" in imported and "buildings: 4514 rows" in imported
        geogrid("user", "add", "planner", "--role", "planner", "--scope", "360702", url=db.url,
                stdin=f"{PASSWORD}\n{PASSWORD}\n")
        chosen = [a for code in COMMUNITIES for a in ("--community", code)]
        partitioned = geogrid("plans", "partition", *chosen, "--publish", url=db.url)
        assert "2 plan versions published" in partitioned
        listed = geogrid("plans", "list", "--status", "published", url=db.url)
        assert all(code in listed for code in COMMUNITIES) and "濂溪社区" in listed
        data_dir = tmp_path_factory.mktemp("data")
        with serving(db.url, data_dir) as base:
            token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "planner", "password": PASSWORD})
            assert token.status_code == 200, token.text
            yield base, {"Authorization": f"Bearer {token.json()['access_token']}"}, db.url, data_dir


@contextmanager
def serving(url: str, data_dir: Path, workers: int = 1) -> Iterator[str]:
    """`geogrid serve` in a child process on a free port of 127.0.0.1, until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GEOGRID_DATA_DIR": str(data_dir), "GEOGRID_WARM_STATISTICS": "false",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("GEOGRID_DATABASE_URL", None)
    command = [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--database-url", url, "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert server.poll() is None, f"geogrid serve stopped: {server.stderr.read().decode() if server.stderr else ''}"
            try:
                if httpx.get(f"{base}/ogc", timeout=1).status_code == 401:  # up, and asking for a token
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _matched(base: str, headers: dict[str, str], collection: str) -> int:
    answer = httpx.get(f"{base}/ogc/collections/{collection}/items", params={"limit": 1}, headers=headers)
    return answer.json()["numberMatched"]


@pytest.mark.parametrize("collection", ["grids", "communities", "buildings"])
def test_gdal_reads_every_collection_with_its_default_page_size(served, collection: str) -> None:
    base, headers, _, _ = served
    expected = _matched(base, headers, collection)
    assert expected > 0
    token = headers["Authorization"].removeprefix("Bearer ")
    # the GDAL of the pyogrio wheel (3.12): takes its page size from the OpenAPI's limit (its maximum, up to 1000)
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token})
    try:
        frame = pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer=collection)
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    assert len(frame) == expected and frame.geometry.notna().all() and frame.crs.to_epsg() == 4326
    # Debian's ogrinfo (gdal-bin), with no page size given either
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
    listing = subprocess.run(["ogrinfo", "-ro", "-al", "-so", f"OAPIF:{base}/ogc", collection], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert f"Feature Count: {expected}" in listing
    counted = subprocess.run(["ogrinfo", "-ro", "-q", "-sql", f"SELECT COUNT(*) AS n FROM {collection}",
                              f"OAPIF:{base}/ogc"], env=env, capture_output=True, text=True, check=True).stdout
    assert f"n (Integer) = {expected}" in counted


def test_owslib_reads_landing_conformance_collections_items_and_queryables(served) -> None:
    base, headers, _, _ = served
    service = Features(f"{base}/ogc", headers=headers)
    assert any(link["rel"] == "service-desc" for link in service.links)
    assert "/ogc/collections/{collection_id}/items" in service.api()["paths"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in service.conformance()["conformsTo"]
    assert [c["id"] for c in service.collections()["collections"]] == ["grids", "communities", "buildings"]
    assert "community_code" in service.collection_queryables("grids")["properties"]
    for code in COMMUNITIES:
        items = service.collection_items("grids", limit=100, community_code=code)
        assert items["numberMatched"] == items["numberReturned"] > 0
        assert {f["properties"]["community_code"] for f in items["features"]} == {code}
    other = service.collection_items("grids", community_code="360702-002-001")
    assert other["numberMatched"] == 0  # partitioned communities only: the others have no published plan


def test_tiles_and_tilejson_serve_the_published_grids(served) -> None:
    base, headers, _, _ = served
    spec = httpx.get(f"{base}/tiles/grids.json", headers=headers).json()
    minx, miny, maxx, maxy = spec["bounds"]
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    z = 12
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    url = spec["tiles"][0].format(z=z, x=x, y=y)
    tile = httpx.get(url, headers={**headers, "Accept-Encoding": "gzip"})
    assert tile.status_code == 200 and tile.headers["content-encoding"] == "gzip"
    decoded = mapbox_vector_tile.decode(tile.content)
    codes = {f["properties"]["community_code"] for f in decoded["grids"]["features"]}
    assert codes and codes <= set(COMMUNITIES)
    assert set().union(*(f["properties"] for f in decoded["grids"]["features"])) <= set(
        spec["vector_layers"][0]["fields"])


def test_two_workers_share_partition_jobs(served) -> None:
    _, _, url, data_dir = served
    code = "360702-001-012"  # the sample's smallest community: a short job
    with serving(url, data_dir, workers=2) as base:
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "planner", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        started = httpx.post(f"{base}/api/v1/communities/{code}/partition-jobs", json={}, headers=headers)
        assert started.status_code == 202, started.text
        job = started.json()["job_id"]
        again = httpx.post(f"{base}/api/v1/communities/{code}/partition-jobs", json={}, headers=headers)
        assert again.status_code in (202, 409)  # 409 while the first runs, on whichever worker
        status = "queued"
        for _ in range(600):  # each poll on a new connection: the two workers answer in turn
            answer = httpx.get(f"{base}/api/v1/jobs/{job}", headers=headers)
            assert answer.status_code == 200, answer.text  # a job in one worker's memory would be 404 on the other
            status = answer.json()["status"]
            if status in ("succeeded", "failed"):
                break
            time.sleep(0.1)
        assert status == "succeeded", answer.text
        assert answer.json()["result"]["plan_id"] > 0
