"""API latency under load: a city of 8,000 grids on SpatiaLite and on PostGIS, served by uvicorn, loaded by wrk.

For each store: a fresh database gets the synthetic city of ``bench/city.py`` (bulk insert), an
admin account, and a uvicorn server on 127.0.0.1 in its own process. wrk (Debian package ``wrk``)
then drives each endpoint from another process, with 1 and with 50 concurrent connections for a
fixed time after a short warm-up, and reports median and 95th-percentile latency. Also recorded:
the time to render each tile in-process with no cache (the database's or Python's work alone).
Loopback only; every run is bounded in time.

One uvicorn worker by default, as ``geogrid serve`` runs (partition jobs live in the worker's memory).
With h11 ``--workers 2`` put a floor of about 48 ms under every response (a TCP delayed-ACK stall);
with httptools (``uvicorn[standard]``) it does not.

    apt-get install wrk
    .venv/bin/python bench/api_latency.py                      # both stores, results in bench/results/
    .venv/bin/python bench/api_latency.py --stores spatialite --seconds 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from city import CityShape, build, community_code, store

from geogrid.db.engine import make_engine
from geogrid.db.migrate import upgrade
from geogrid.db.session import session_scope
from geogrid.store import tiles
from geogrid.store.spatial import Scope
from geogrid.store.users import add_user

USER, PASSWORD = "bench-admin", secrets.token_urlsafe(12)
TOKEN_PATH = "/api/v1/auth/token"
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "seconds": %.3f, "socket_errors": %d, "bad_status": %d, '
    .. '"p50_ms": %.3f, "p90_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
"""


def endpoints(shape: CityShape) -> dict[str, str]:
    """The paths to load: one community's grids as GeoJSON, a z12 and a z14 grid tile, the hierarchy roll-up."""
    middle = community_code(shape.streets // 2, shape.communities_per_street // 2)
    lon, lat = city_centre(shape)
    return {
        "community_grids_geojson": f"/api/v1/communities/{middle}/grids",
        "tile_grids_z12": "/tiles/grids/12/{}/{}.pbf".format(*tile_xy(lon, lat, 12)),
        "tile_grids_z14": "/tiles/grids/14/{}/{}.pbf".format(*tile_xy(lon, lat, 14)),
        "hierarchy_rollup": "/api/v1/hierarchy",
    }


def city_centre(shape: CityShape) -> tuple[float, float]:
    from city import METRIC, ORIGIN
    from pyproj import Transformer

    x = ORIGIN[0] + shape.communities_per_street * shape.community_side_m / 2
    y = ORIGIN[1] + shape.streets * shape.community_side_m / 2
    return Transformer.from_crs(METRIC, 4326, always_xy=True).transform(x, y)


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


# --- stores and server -------------------------------------------------------------------------


def fill(url: str, shape: CityShape) -> dict[str, object]:
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    counts = build(engine, shape)
    with session_scope(engine) as session:
        add_user(session, USER, PASSWORD, "admin", "360702")
    engine.dispose()
    return {**counts, "load_seconds": round(time.perf_counter() - started, 1)}


def render_times(url: str, shape: CityShape, repeat: int = 7) -> dict[str, dict[str, float]]:
    """Median in-process time to render the z12 and z14 grid tiles, no cache, and their sizes."""
    engine = make_engine(url)
    lon, lat = city_centre(shape)
    found = {}
    for z in (12, 14):
        tile = tiles.Tile(z, *tile_xy(lon, lat, z))
        times = []
        for _ in range(repeat):
            with session_scope(engine) as session:
                started = time.perf_counter()
                data = tiles.render(session, "grids", tile, Scope())
                times.append((time.perf_counter() - started) * 1000)
        found[f"z{z}"] = {"median_ms": round(sorted(times)[repeat // 2], 1), "bytes": len(data)}
    engine.dispose()
    return found


@contextlib.contextmanager
def server(url: str, folder: Path, workers: int) -> Iterator[str]:
    """uvicorn serving the API on a free loopback port, in its own process group; stopped afterwards."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GEOGRID_DATABASE_URL": url, "GEOGRID_DATA_DIR": str(folder), "GEOGRID_DEMO": "false",
           "GEOGRID_SECRET_KEY": secrets.token_urlsafe(32), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "uvicorn", "api.app:served_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, process)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=30)


def _wait(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped with code {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit("the server did not start within a minute")


def token(base: str) -> str:
    answer = httpx.post(base + TOKEN_PATH, data={"username": USER, "password": PASSWORD}, timeout=30)
    answer.raise_for_status()
    return answer.json()["access_token"]


# --- load --------------------------------------------------------------------------------------


def wrk(url: str, bearer: str, clients: int, seconds: float, script: Path) -> dict[str, float]:
    """wrk's latency summary for one URL (two threads, clients connections, a fixed duration)."""
    command = ["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "10s", "-s", str(script),
               "-H", f"Authorization: Bearer {bearer}", url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result["requests_per_s"] = round(result["requests"] / result["seconds"], 1)
    return result


def measure(base: str, paths: dict[str, str], clients: list[int], seconds: float, warmup: float, script: Path) -> dict:
    """For each endpoint: one cold request's time, then wrk's latency at each number of clients."""
    bearer = token(base)
    results = {}
    for name, path in paths.items():
        started = time.perf_counter()
        probe = httpx.get(base + path, headers={"Authorization": f"Bearer {bearer}"}, timeout=60)
        cold = (time.perf_counter() - started) * 1000
        if probe.status_code not in (200, 204):
            raise SystemExit(f"{path}: HTTP {probe.status_code} {probe.text[:300]}")
        wrk(base + path, bearer, max(clients), warmup, script)
        results[name] = {"path": path, "status": probe.status_code, "bytes": len(probe.content),
                         "first_request_ms": round(cold, 1), "by_clients": {}}
        for n in clients:
            row = results[name]["by_clients"][str(n)] = wrk(base + path, bearer, n, seconds, script)
            print(f"  {name:26s} {n:3d} clients: p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
                  f"{row['requests_per_s']:7.1f} req/s  (first {cold:.0f} ms, {len(probe.content)} bytes)", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", nargs="+", default=["spatialite", "postgis"], choices=["spatialite", "postgis"])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 50], help="concurrent connections, one run each")
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/api_latency.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark drives the server with wrk: apt-get install wrk")
    shape = CityShape()
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "city": {"grids": shape.grids, "communities": shape.streets * shape.communities_per_street},
              "clients": args.clients, "seconds_per_endpoint": args.seconds, "server_workers": args.workers,
              "goal_p95_ms": 50, "stores": {}}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(LUA)
        for kind in args.stores:
            folder = Path(tmp) / kind
            folder.mkdir()
            with store(kind, folder) as url:
                loaded = fill(url, shape)
                rendered = render_times(url, shape)
                print(f"{kind}: {loaded}; tile render alone {rendered}", flush=True)
                with server(url, folder, args.workers) as base:
                    report["stores"][kind] = {"loaded": loaded, "tile_render_in_process": rendered,
                                              "endpoints": measure(base, endpoints(shape), args.clients,
                                                                   args.seconds, args.warmup, script)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
