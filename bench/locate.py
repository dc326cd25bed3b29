"""Placing 1,000,000 points into ~8,000 grids: geogrid's GridIndex against geopandas, shapely and PostGIS.

The grids are Voronoi cells of 8,000 random seeds clipped to an irregular district about 20 km
across (in Ganzhou); the points are uniform over the district's bounding box, so some fall in no
grid. Everything runs pinned to one core (PostGIS with parallel query off). geogrid's answers are
checked against the exact reference (GEOS intersects on STRtree candidates, then the boundary rule:
first grid in grid_code order) for every point.

    .venv/bin/python bench/locate.py [--points 1000000] [--grids 8000] [--pg postgresql://postgres@127.0.0.1:5432/]
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geogrid.geo.locate import GridIndex  # noqa: E402

CENTRE = (114.93, 25.83)
RADIUS_DEG = 0.1  # about 10 km of latitude
JOIN = "SELECT p.id, g.code FROM pts p JOIN grids g ON ST_Covers(g.geom, p.geom)"


def district(rng: np.random.Generator) -> shapely.Polygon:
    """An irregular district polygon about 20 km across."""
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    radius = RADIUS_DEG * rng.uniform(0.75, 1.0, angles.size)
    lon = CENTRE[0] + radius * np.cos(angles) / np.cos(np.radians(CENTRE[1]))
    return shapely.Polygon(np.column_stack([lon, CENTRE[1] + radius * np.sin(angles)]))


def coverage(count: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Voronoi cells of count seeds inside the district, clipped to it, with shuffled grid codes."""
    area = district(rng)
    minx, miny, maxx, maxy = area.bounds
    seeds = shapely.points(rng.uniform(minx, maxx, count * 3), rng.uniform(miny, maxy, count * 3))
    seeds = seeds[shapely.contains(area, seeds)][:count]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=area))
    cells = shapely.intersection(cells, area)
    cells = cells[~shapely.is_empty(cells)]
    codes = [f"360702-001-{k // 100:03d}-{k % 100:02d}" for k in rng.permutation(cells.size)]
    return gpd.GeoDataFrame({"grid_code": codes}, geometry=cells, crs=4326)


def timed(run: Callable[[], object]) -> tuple[float, object]:
    """Seconds taken by run() and its answer."""
    start = time.perf_counter()
    answer = run()
    return time.perf_counter() - start, answer


def best_of(runs: int, run: Callable[[], object]) -> tuple[float, float, object]:
    """Best and median seconds over several runs, and the last answer."""
    times, answer = [], None
    for _ in range(runs):
        seconds, answer = timed(run)
        times.append(seconds)
    return min(times), float(np.median(times)), answer


def reference(grids: gpd.GeoDataFrame, pairs: np.ndarray, n: int) -> np.ndarray:
    """From (point, grid) pairs where the closed grid covers the point: the first grid in code order, or -1."""
    rank = np.argsort(np.argsort(grids["grid_code"].to_numpy(), kind="stable"), kind="stable")
    by_rank = np.argsort(rank)
    best = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(best, pairs[0], rank[pairs[1]])
    found = best != np.iinfo(np.int64).max
    return np.where(found, by_rank[np.where(found, best, 0)], -1)


def postgis_join(grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, admin_url: str) -> tuple[float, int]:
    """Seconds for the PostGIS join (ST_Covers with a GiST index, one core) and the matched pair count."""
    name = f"geogrid_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(admin_url.rsplit("/", 1)[0] + f"/{name}", autocommit=True) as conn:
            _load(conn, grids, lon, lat)
            conn.execute("SET max_parallel_workers_per_gather = 0")
            conn.execute("SET jit = off")  # JIT compiling this plan only adds time
            plan = conn.execute(f"EXPLAIN {JOIN}").fetchall()
            print("PostGIS plan:", " / ".join(row[0].strip() for row in plan))
            start = time.perf_counter()
            conn.execute(f"CREATE TABLE placed AS {JOIN}")
            seconds = time.perf_counter() - start
            pairs = conn.execute("SELECT count(*) FROM placed").fetchone()[0]
        return seconds, int(pairs)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _load(conn: psycopg.Connection, grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> None:
    """COPY the points and grids in, with geometries and GiST indexes, analysed."""
    conn.execute("CREATE EXTENSION postgis")
    conn.execute("CREATE TABLE pts (id int, lon float8, lat float8)")
    conn.execute("CREATE TABLE grids (code text, wkb text)")
    text = io.StringIO()
    np.savetxt(text, np.column_stack([np.arange(lon.size), lon, lat]), fmt=["%d", "%.17g", "%.17g"], delimiter="\t")
    with conn.cursor().copy("COPY pts FROM STDIN") as copy:
        copy.write(text.getvalue())
    rows = "".join(f"{c}\t{w}\n" for c, w in zip(grids["grid_code"], shapely.to_wkb(grids.geometry.values, hex=True),
                                                 strict=True))
    with conn.cursor().copy("COPY grids FROM STDIN") as copy:
        copy.write(rows)
    conn.execute("ALTER TABLE pts ADD COLUMN geom geometry(Point, 4326)")
    conn.execute("UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
    conn.execute("ALTER TABLE grids ADD COLUMN geom geometry(Geometry, 4326)")
    conn.execute("UPDATE grids SET geom = ST_SetSRID(ST_GeomFromWKB(decode(wkb, 'hex')), 4326)")
    conn.execute("CREATE INDEX ON pts USING gist (geom)")
    conn.execute("CREATE INDEX ON grids USING gist (geom)")
    conn.execute("ANALYZE pts")
    conn.execute("ANALYZE grids")


def main() -> None:
    """Run every method on the same points and grids and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=8000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    rng = np.random.default_rng(0)
    grids = coverage(args.grids, rng)
    minx, miny, maxx, maxy = grids.total_bounds
    lon, lat = rng.uniform(minx, maxx, args.points), rng.uniform(miny, maxy, args.points)
    points = shapely.points(lon, lat)
    vertices = shapely.get_num_coordinates(grids.geometry.values)
    print(f"{len(grids)} grids ({vertices.mean():.1f} vertices each), {args.points:,} points, one core")

    build, index = timed(lambda: GridIndex(grids))
    raster = index.raster
    print(f"GridIndex build {build:.2f} s: raster {raster.nx} x {raster.ny} = {raster.values.size:,} cells "
          f"({raster.values.nbytes / 2**20:.0f} MB {raster.values.dtype}), {raster.mixed_share:.1%} mixed")
    results = {}
    best, median, answer = best_of(args.runs, lambda: index.locate(lon, lat))
    results["geogrid GridIndex.locate"] = (best, median)
    tree = shapely.STRtree(grids.geometry.values)
    best_q, median_q, pairs = best_of(max(args.runs // 2, 1), lambda: tree.query(points, predicate="intersects"))
    results["shapely STRtree.query(intersects)"] = (best_q, median_q)
    exact = reference(grids, pairs, args.points)
    mismatches = int(np.count_nonzero(answer != exact))
    print(f"mismatches against the exact reference: {mismatches} of {args.points:,} "
          f"({np.count_nonzero(exact >= 0):,} points in a grid)")
    frame = gpd.GeoDataFrame(geometry=points, crs=4326)
    best_s, median_s, _ = best_of(max(args.runs // 2, 1), lambda: gpd.sjoin(frame, grids, predicate="intersects"))
    results["geopandas sjoin(intersects)"] = (best_s, median_s)
    seconds, pg_pairs = postgis_join(grids, lon, lat, args.pg)
    results["PostGIS ST_Covers join (GiST, 1 worker, no JIT)"] = (seconds, seconds)
    print(f"PostGIS pairs {pg_pairs:,}, shapely pairs {pairs.shape[1]:,}")

    geogrid_rate = args.points / results["geogrid GridIndex.locate"][0]
    print("\n| method | best s | median s | points/s | geogrid is faster by |\n|---|---:|---:|---:|---:|")
    for name, (low, mid) in results.items():
        rate = args.points / low
        print(f"| {name} | {low:.3f} | {mid:.3f} | {rate / 1e6:.2f} M | {geogrid_rate / rate:.1f}× |")


if __name__ == "__main__":
    main()
