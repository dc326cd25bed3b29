"""The partition report: per community and in total, as JSON and as a terminal table."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from geogrid.partition.atoms import assignment_atoms
from geogrid.partition.rules import Rules


# Flags that prove no partition of the community can meet every limit (the data do not allow it).
PROOF_RULES = ("community_too_small", "no_feasible_window", "oversized_building", "no_feasible_partition")


def build_report(tasks, results, assignments, previous_assignments, rules: Rules, seconds: float, crs) -> dict:
    communities = [_summary(r.grids, [r.stats]) | {"community_code": t.code, "kind": t.kind} | feasibility(r.grids)
                   for t, r in zip(tasks, results)]
    if previous_assignments is not None:
        moved = _moved(previous_assignments, assignments)
        for community in communities:
            here = moved[moved.index == community["community_code"]]
            community["households_moved_share"] = _moved_share(here)
    grids = pd.concat([r.grids for r in results], ignore_index=True) if results else pd.DataFrame()
    total = _summary(grids, [r.stats for r in results]) | _feasibility_totals(communities, grids)
    unassigned = assignments.loc[assignments["grid_code"].isna(), "building_id"].astype(str).tolist()
    total["unassigned_buildings"] = unassigned
    if previous_assignments is not None:
        total["households_moved_share"] = _moved_share(moved)
    return {
        "rules": rules.model_dump(),
        "metric_crs": str(crs),
        "run_time_s": round(seconds, 3),
        "total": total,
        "communities": communities,
    }


def repairs_section(buildings: list[dict], communities: list[dict], gaps: dict) -> dict:
    """What was repaired in the input to divide it: counts by kind, each building and community
    repaired with what was done and why, and the gaps between communities (count and m²)."""
    records = sorted(buildings, key=lambda r: (r["building_id"], r["repair"]))
    communities = sorted(communities, key=lambda r: (r["community_code"], r["repair"]))
    kinds = Counter(r["repair"] for r in records + communities)
    return {"counts": dict(sorted(kinds.items())), "buildings": records, "communities": communities,
            "community_gaps": gaps}


def _summary(grids: pd.DataFrame, stats: list[dict]) -> dict:
    if grids.empty:
        return {"grid_count": 0}
    flags = Counter(f["rule"] for text in grids["flags"] for f in json.loads(text))
    inner = sum(s["inner_boundary_m"] for s in stats)
    on_streets = sum(s["inner_boundary_on_streets_m"] for s in stats)
    return {
        "grid_count": int(len(grids)),
        "households": _spread(grids["households"]),
        "population": _spread(grids["population"]),
        "within_limits_share": round(float(grids["within_limits"].mean()), 4),
        "flags": dict(sorted(flags.items())),
        "mean_compactness": round(float(grids["compactness"].mean()), 4),
        "boundary_on_streets_share": _share(on_streets, inner),
        "boundary_by_street_class_share": _class_shares(stats, inner),
        "compounds_whole_share": _share(sum(s["compounds_whole"] for s in stats), sum(s["compounds"] for s in stats)),
        "gap_m2": round(sum(s["gap_m2"] for s in stats), 3),
        "overlap_m2": round(sum(s["overlap_m2"] for s in stats), 3),
    }


def feasibility(grids: pd.DataFrame) -> dict:
    """``feasible_partition``: 'met' (every grid within every limit), 'none' (a flag proves that no
    partition can be), or 'unknown' (some grid breaks a limit and no proof was found that this
    cannot be helped); ``infeasibility_proofs``: the proofs found."""
    found = proofs(grids)
    met = grids.empty or bool(grids["within_limits"].all())
    return {"feasible_partition": "met" if met else "none" if found else "unknown", "infeasibility_proofs": found}


def proofs(grids: pd.DataFrame) -> list[str]:
    """The kinds of proof that no partition meets every limit: a rule, or 'rule:proof' for programmes."""
    found = {f["rule"] + (f":{f['proof']}" if "proof" in f else "")
             for text in grids.get("flags", []) for f in json.loads(text) if f["rule"] in PROOF_RULES}
    return sorted(found)


def _feasibility_totals(communities: list[dict], grids: pd.DataFrame) -> dict:
    """How many communities cannot meet every limit, and the share of grids within every limit
    among the communities where a partition within every limit is not ruled out."""
    verdict = Counter(c["feasible_partition"] for c in communities)
    possible = {c["community_code"] for c in communities if c["feasible_partition"] != "none"}
    within = grids.loc[grids["community_code"].isin(possible), "within_limits"] if len(grids) else pd.Series([])
    kinds = Counter(kind for c in communities for kind in c["infeasibility_proofs"])
    return {
        "communities_feasible_partition": {k: verdict.get(k, 0) for k in ("met", "unknown", "none")},
        "communities_by_proof": dict(sorted(kinds.items())),
        "within_limits_share_where_feasible": round(float(within.mean()), 4) if len(within) else None,
    }


def _class_shares(stats: list[dict], inner: float) -> dict[str, float | None]:
    """Share of the grids' inner boundary along streets of each class (major, minor, footway_service,
    and street: roads of no known class); the rest runs along no street."""
    lengths: Counter = Counter()
    for s in stats:
        lengths.update(s.get("inner_boundary_by_street_class_m", {}))
    return {kind: _share(length, inner) for kind, length in lengths.items()}


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _spread(values: pd.Series) -> dict:
    return {"min": int(values.min()), "median": float(np.median(values)), "max": int(values.max()),
            "total": int(values.sum())}


def _moved(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per community: households (of buildings in both plans) and how many of them changed grid.

    Compared atom by atom: a tower split by units counts each unit's share of its households; a
    tower split in one plan and whole in the other compares each unit with the whole building."""
    old, new = assignment_atoms(before), assignment_atoms(after)
    new = new[new["building_id"].isin(old["building_id"])]
    whole_old = old[old["key"] == old["building_id"]].set_index("building_id")["grid_code"]
    was = new["key"].map(old.set_index("key")["grid_code"]).fillna(new["building_id"].map(whole_old))
    matched = new.assign(moved=np.where(new["grid_code"] != was, new["households"], 0.0))[was.notna()]
    # whole now, split by units before: each old unit against the building's grid now
    whole_new = new[was.isna()].set_index("building_id")
    units = old[old["building_id"].isin(whole_new.index)]
    building = units["building_id"]
    share = building.map(whole_new["households"]) / building.map(building.value_counts())
    split = units.assign(community_code=building.map(whole_new["community_code"]), households=share,
                         moved=np.where(units["grid_code"] != building.map(whole_new["grid_code"]), share, 0.0))
    both = pd.concat([matched, split])[["community_code", "households", "moved"]]
    return both.groupby("community_code")[["households", "moved"]].sum()


def _moved_share(moved: pd.DataFrame) -> float:
    households = float(moved["households"].sum())
    return round(float(moved["moved"].sum()) / households, 4) if households else 0.0


def print_report(report: dict, console: Console | None = None) -> None:
    """The report as a table on the terminal."""
    console = console or Console()
    table = Table(title=f"geogrid partition ({report['run_time_s']} s)")
    moved = "households_moved_share" in report["total"]
    names = ["community", "grids", "households min/med/max", "residents max", "within limits", "compactness",
             "on streets"] + (["moved"] if moved else []) + ["flags"]
    for name in names:
        table.add_column(name, justify="right" if name != "flags" else "left", no_wrap=name == "community")
    for row in report["communities"] + [report["total"] | {"community_code": "total"}]:
        share = [f"{row.get('households_moved_share', 0):.0%}"] if moved else []
        if not row.get("grid_count"):
            table.add_row(row["community_code"], "0", "", "", "", "", "", *share, "")
            continue
        h = row["households"]
        street = row["boundary_on_streets_share"]
        table.add_row(
            row["community_code"], str(row["grid_count"]), f"{h['min']}/{h['median']:g}/{h['max']}",
            str(row["population"]["max"]), f"{row['within_limits_share']:.0%}", f"{row['mean_compactness']:.2f}",
            "" if street is None else f"{street:.0%}", *share,
            ", ".join(f"{k}:{v}" for k, v in row["flags"].items()),
        )
    console.print(table)
    total = report["total"]
    if total.get("within_limits_share_where_feasible") is not None:
        counts = total["communities_feasible_partition"]
        console.print(f"Grids within every limit where a partition within every limit is not ruled out: "
                      f"{total['within_limits_share_where_feasible']:.0%}; communities where none can be: "
                      f"{counts['none']}, not known: {counts['unknown']}")
    _print_repairs(report.get("input_repairs"), console)
    lost = report["total"].get("unassigned_buildings", [])
    if lost:
        console.print(f"[yellow]{len(lost)} buildings lie outside every community: {', '.join(lost[:10])}[/]")
    if "households_moved_share" in report["total"]:
        console.print(f"Households moved from the previous plan: {report['total']['households_moved_share']:.1%}")


def _print_repairs(repairs: dict | None, console: Console) -> None:
    """One line for what was repaired in the input, and one for the gaps between communities."""
    if not repairs:
        return
    if repairs["counts"]:
        kinds = ", ".join(f"{kind}: {n}" for kind, n in repairs["counts"].items())
        console.print(f"[yellow]Input repaired ({kinds}); each feature is listed in the report's input_repairs[/]")
    gaps = repairs["community_gaps"]
    if gaps["count"]:
        console.print(f"[yellow]{gaps['count']} gaps between communities, {gaps['area_m2']:,.0f} m² in all[/]")
