"""Real cases: OSM footprints and streets partitioned, scored, drawn to PNG and set beside spopt's MaxP.

The cases come from ``geogrid.sample.osm`` (footprints and streets shipped in PyPI packages, with
households estimated from floor area) plus the committed synthetic sample. Each run writes
``bench/results/real_cases.json``, one picture per case in ``docs/img/`` and the table between the
markers in ``docs/BENCHMARKS.md``, so it can simply be re-run:

    .venv/bin/python bench/real_cases.py
    .venv/bin/python bench/real_cases.py --cases helsinki karhula --skip-maxp
    .venv/bin/python bench/real_cases.py --cases district500k --skip-maxp   # one process, about 2 min

The 500,000-household district (``district500k``) is the synthetic one of bench/partition_scaling.py, which times
it on 2 processes; here it gets the same figures as the real cases, in one process. MaxP is not run on it (spopt
took 487 s on Helsinki's 483 buildings).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geogrid.geo.crs import metric_crs  # noqa: E402
from geogrid.partition import partition  # noqa: E402
from geogrid.partition.atoms import enclosures, tessellate  # noqa: E402
from geogrid.partition.rules import Rules  # noqa: E402
from geogrid.partition.scores import polsby_popper  # noqa: E402
from geogrid.sample.district import build  # noqa: E402
from geogrid.sample.osm import MAJOR_STREETS, MINOR_STREETS, SOURCES, real_case  # noqa: E402

DISTRICT = "district500k"  # the synthetic 500,000-household district of bench/partition_scaling.py
CASES = ("sample", *SOURCES, DISTRICT)
SAMPLE = ROOT / "data" / "sample"
IMAGES = ROOT / "docs" / "img"
TABLE_START, TABLE_END = "<!-- real-cases:start -->", "<!-- real-cases:end -->"
CRASH = "crashes (engine-input fixes)"
MAXP_CONSTRUCTION = 10  # MaxP's construction iterations (spopt's default, 99, took 700 s on Bubeneč's 144 buildings)


def load(name: str) -> dict:
    """The case's layers (EPSG:4326) and a line saying where they come from."""
    if name == "sample":
        read = {layer: gpd.read_file(SAMPLE / f"{layer}.geojson")
                for layer in ("communities", "buildings", "roads", "villager_groups")}
        read["roads"] = read["roads"].assign(highway=read["roads"]["road_class"].fillna("").astype(str))
        return read | {"place": "synthetic sample district, Zhanggong (data/sample)", "source": "geogrid sample"}
    if name == DISTRICT:
        built = build(households=500_000, seed=0, incidents=0, cameras=0)
        built["roads"] = built["roads"].assign(highway=built["roads"]["road_class"].fillna("").astype(str))
        return {layer: built[layer] for layer in ("communities", "buildings", "roads", "villager_groups")} | {
            "place": "synthetic 500,000-household district (geogrid.sample.district.build, seed 0)",
            "source": "geogrid sample generator"}
    case = real_case(name)
    return {"communities": case.communities, "buildings": case.buildings, "roads": case.roads,
            "villager_groups": None, "place": case.place, "source": case.source}


def run_geogrid(layers: dict, rules: Rules) -> tuple[dict, gpd.GeoDataFrame | None]:
    started, cpu = time.perf_counter(), time.process_time()
    try:
        result = partition(layers["communities"], layers["buildings"], roads=layers["roads"],
                           villager_groups=layers["villager_groups"], rules=rules)
    except Exception as error:  # recorded, not fatal: the other helpers' fixes land in parallel
        return {"status": CRASH, "error": f"{type(error).__name__}: {error}",
                "trace": traceback.format_exc().splitlines()[-3:]}, None
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    total = result.report["total"]
    metric = metric_crs(layers["communities"].to_crs(4326))
    grids = result.grids.to_crs(metric)
    return {
        "status": "ok",
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "grids": int(len(grids)),
        "within_limits_share": total["within_limits_share"],
        "within_limits_share_where_feasible": total["within_limits_share_where_feasible"],
        "grids_outside_limits": total["grids_outside_limits"],
        "grids_outside_limits_unproven": total["grids_outside_limits_unproven"],
        "grids_outside_limits_by_proof": total["grids_outside_limits_by_proof"],
        "grids_in_several_parts": total["grids_in_several_parts"],
        "cut_footprints": cut_footprints(grids),
        "mean_compactness": total["mean_compactness"],
        "boundary_on_streets_share": total["boundary_on_streets_share"],
        "boundary_on_major_streets_share": _major_share(total),
        "flags": total["flags"],
        "communities_feasible_partition": total["communities_feasible_partition"],
    }, grids


def cut_footprints(grids: gpd.GeoDataFrame) -> int:
    """Footprints that a grid boundary cuts (the ``building_cut`` flags)."""
    return sum(len(f["building_ids"]) for text in grids["flags"] for f in json.loads(text)
               if f["rule"] == "building_cut")


def _major_share(total: dict) -> float | None:
    """Share of the grid boundary between grids along a major street, from the engine's report (None where no
    street has a class, as in Bubeneč)."""
    shares = total.get("boundary_by_street_class_share") or {}
    classified = any(shares.get(kind) for kind in ("major", "minor", "footway_service"))
    return shares.get("major") if classified else None


def run_maxp(layers: dict, rules: Rules) -> dict:
    """PySAL spopt's MaxPHeuristic on the engine's cells (the buildings' tessellation of each
    community's street blocks), threshold = the household floor, scored against both limits."""
    from libpysal.weights import Rook
    from spopt.region import MaxPHeuristic

    metric = metric_crs(layers["communities"].to_crs(4326))
    communities = layers["communities"].to_crs(metric)
    buildings = layers["buildings"].to_crs(metric)
    roads = layers["roads"].to_crs(metric)
    home = _home(buildings.geometry.to_numpy(), communities.geometry.to_numpy())
    regions, seconds, cpu, failed = [], 0.0, 0.0, []
    for c, (code, outline) in enumerate(zip(communities["community_code"], communities.geometry)):
        own = buildings[home == c].reset_index(drop=True).assign(compound="", units=None)
        if own["households"].sum() < rules.min_households:
            continue
        cells, _ = tessellate(own, enclosures(outline, roads.geometry, metric))
        units = gpd.GeoDataFrame({"households": np.r_[own["households"], np.zeros(len(cells) - len(own))],
                                  "population": np.r_[own["population"], np.zeros(len(cells) - len(own))]},
                                 geometry=cells.to_numpy(), crs=metric)
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            weights = Rook.from_dataframe(units, use_index=False, silence_warnings=True)
            np.random.seed(0)
            model = MaxPHeuristic(units, weights, attrs_name=["households", "population"],
                                  threshold_name="households", threshold=rules.min_households, top_n=2, verbose=False,
                                  max_iterations_construction=MAXP_CONSTRUCTION)
            model.solve()
            regions.append(units.assign(label=np.asarray(model.labels_)).dissolve("label", aggfunc="sum"))
        except Exception as error:  # MaxP refuses some communities (islands, one region): said, not fatal
            failed.append(f"{code}: {type(error).__name__}")
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    if not regions:
        return {"status": "no regions", "failed": failed}
    every = gpd.GeoDataFrame(gpd.pd.concat(regions, ignore_index=True), crs=metric)
    h, p = every["households"].to_numpy(), every["population"].to_numpy()
    within = (h >= rules.min_households) & (h <= rules.max_households) & (p <= rules.max_population)
    geoms = every.geometry.to_numpy()
    return {
        "status": "ok", "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "regions": int(len(every)),
        "within_limits_share": round(float(within.mean()), 4),
        "mean_compactness": round(float(polsby_popper(geoms).mean()), 4),
        "regions_in_several_parts": int((shapely.get_num_geometries(geoms) > 1).sum()),
        "failed": failed,
    }


def _home(footprints: np.ndarray, communities: np.ndarray) -> np.ndarray:
    home = np.full(len(footprints), -1)
    b, c = shapely.STRtree(communities).query(shapely.point_on_surface(footprints), predicate="within")
    home[b] = c
    return home


def draw(name: str, layers: dict, grids: gpd.GeoDataFrame | None, row: dict, path: Path) -> None:
    """Grids in one colour each over buildings and streets; grids with a flag hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = metric_crs(layers["communities"].to_crs(4326))
    communities = layers["communities"].to_crs(metric)
    roads = layers["roads"].to_crs(metric)
    buildings = layers["buildings"].to_crs(metric)
    fig, ax = plt.subplots(figsize=(10, 10), dpi=110)
    if grids is not None:
        palette = plt.get_cmap("Set3")(np.arange(12))
        grids.plot(ax=ax, color=palette[neighbour_colours(grids.geometry.to_numpy()) % 12], alpha=0.8, linewidth=0)
        flagged = grids[[bool(json.loads(f)) for f in grids["flags"]]]
        if len(flagged):
            flagged.plot(ax=ax, facecolor="none", edgecolor="#b00000", hatch="///", linewidth=1.2)
    kind = roads["highway"].astype(str)
    minor, major = kind.isin(MINOR_STREETS), kind.isin(MAJOR_STREETS)
    for lines, style in ((roads[minor], dict(color="#8a8a8a", linewidth=0.5, linestyle=":")),
                         (roads[~minor & ~major], dict(color="#707070", linewidth=1.0)),
                         (roads[major], dict(color="#505050", linewidth=2.4))):
        if len(lines):
            lines.plot(ax=ax, **style)
    homes = buildings["households"].to_numpy() > 0
    buildings[homes].plot(ax=ax, color="#303030", linewidth=0)
    if (~homes).any():
        buildings[~homes].plot(ax=ax, facecolor="#d0d0d0", edgecolor="#606060", linewidth=0.4)
    if grids is not None:
        grids.boundary.plot(ax=ax, color="#1a3d8f", linewidth=1.3)
    communities.boundary.plot(ax=ax, color="black", linewidth=2.6)
    xmin, ymin, xmax, ymax = communities.total_bounds
    ax.set_xlim(xmin - 20, xmax + 20)
    ax.set_ylim(ymin - 20, ymax + 20)
    ax.set_axis_off()
    ax.set_title(_caption(name, layers, row), fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def neighbour_colours(geoms: np.ndarray) -> np.ndarray:
    """A colour number per grid, different from every grid it shares an edge with (greedy, in grid order)."""
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=0.5)
    colour = np.full(len(geoms), -1)
    for g in range(len(geoms)):
        used = set(colour[j[(i == g) & (j != g)]].tolist())
        colour[g] = next(c for c in range(len(geoms) + 1) if c not in used)
    return colour


def _caption(name: str, layers: dict, row: dict) -> str:
    g = row["geogrid"]
    head = f"{name}: {layers['place']} — {row['buildings']:,} buildings, {row['households']:,} households"
    if g["status"] != "ok":
        return f"{head}\n{g['status']}: {g['error'][:90]}"
    return (f"{head}\n{g['grids']} grids, {g['within_limits_share']:.1%} within every limit, "
            f"{g['grids_outside_limits_unproven']} outside a limit unproven, {g['grids_in_several_parts']} in several "
            f"parts\nblue: grid edges; black: communities; hatched: flagged; dark: homes; light: other buildings")


def markdown(rows: list[dict], machine: str, day: str) -> str:
    lines = [
        f"Measured {day} on {machine}, `bench/real_cases.py` (one process each; MaxP: spopt "
        f"{_version('spopt')}, threshold 300 households, `top_n=2`, {MAXP_CONSTRUCTION} construction iterations, seed 0, "
        "on the same cells). Seconds are CPU seconds of the one process (the machine was shared).",
        "",
        "| case | buildings | households | communities | geogrid CPU s | grids | within every limit | where feasible |"
        " unproven | in several parts | cut footprints | compactness | on streets | on major streets |"
        " MaxP CPU s | MaxP within every limit | MaxP compactness | MaxP in several parts |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        g, m = row["geogrid"], row.get("maxp") or {"status": "not run"}
        head = f"| {row['case']} | {row['buildings']:,} | {row['households']:,} | {row['communities']} |"
        if g["status"] != "ok":
            ours = f" {CRASH} | | | | | | | | | |"
        else:
            ours = (f" {_seconds(g)} | {g['grids']:,} | {_pct(g['within_limits_share'])} |"
                    f" {_pct(g['within_limits_share_where_feasible'])} | {g['grids_outside_limits_unproven']} |"
                    f" {g['grids_in_several_parts']} | {g['cut_footprints']} | {g['mean_compactness']:.3f} |"
                    f" {_pct(g['boundary_on_streets_share'])} | {_pct(g['boundary_on_major_streets_share'])} |")
        if m["status"] != "ok":
            theirs = f" {m['status']} | | | |"
        else:
            theirs = (f" {_seconds(m)} | {_pct(m['within_limits_share'])} | {m['mean_compactness']:.3f} |"
                      f" {m['regions_in_several_parts']} |")
        lines.append(head + ours + theirs)
    lines.append("")
    for row in rows:
        lines.append(f"![{row['case']}](img/real_{row['case']}.png)")
        lines.append("")
    return "\n".join(lines)


def _seconds(run: dict) -> str:
    return f"{run['cpu_seconds']:.2f}" if "cpu_seconds" in run else "—"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def write_section(text: str, path: Path) -> None:
    """Replace what lies between the markers in ``path`` (the markers must be there)."""
    doc = path.read_text()
    start, end = doc.index(TABLE_START) + len(TABLE_START), doc.index(TABLE_END)
    path.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])


def _earlier_maxp(path: Path | None, row: dict) -> dict | None:
    if path is None or not path.is_file():
        return None
    for old in json.loads(path.read_text())["rows"]:
        same = all(old[k] == row[k] for k in ("case", "buildings", "households", "communities"))
        if same and old.get("maxp", {}).get("status") == "ok":
            return old["maxp"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--skip-maxp", action="store_true")
    parser.add_argument("--reuse-maxp", type=Path, help="MaxP's figures from an earlier results file where the "
                        "case has the same buildings and households (MaxP is seeded: same cells, same answer)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "real_cases.json")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    rules = Rules()
    rows = []
    for name in args.cases:
        layers = load(name)
        row = {"case": name, "place": layers["place"], "source": layers["source"],
               "buildings": int(len(layers["buildings"])), "households": int(layers["buildings"]["households"].sum()),
               "communities": int(len(layers["communities"]))}
        row["geogrid"], grids = run_geogrid(layers, rules)
        earlier = _earlier_maxp(args.reuse_maxp, row)
        if earlier is not None:
            row["maxp"] = earlier
        elif not args.skip_maxp and name != DISTRICT:  # MaxP would run for hours on the district
            row["maxp"] = run_maxp(layers, rules)
        draw(name, layers, grids, row, IMAGES / f"real_{name}.png")
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)
    machine = f"{platform.system()} {platform.release()}, Python {platform.python_version()}, {os.cpu_count()} cores"
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = _with_earlier_rows(args.out, rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "date": day, "rows": rows}, ensure_ascii=False, indent=2))
    write_section(markdown(rows, machine, day), args.doc)


def _with_earlier_rows(path: Path, rows: list[dict]) -> list[dict]:
    """This run's rows and, for the cases it did not run, the rows of the earlier results file, in CASES order."""
    earlier = json.loads(path.read_text())["rows"] if path.is_file() else []
    by_case = {row["case"]: row for row in earlier} | {row["case"]: row for row in rows}
    return [by_case[name] for name in CASES if name in by_case]


if __name__ == "__main__":
    main()
