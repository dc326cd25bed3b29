"""The partition report: per community and in total, as JSON and as a terminal table."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import shapely
from rich.console import Console
from rich.table import Table

from geogrid.partition.atoms import assignment_atoms
from geogrid.partition.rules import Rules


# Flags that prove no partition of the community can meet every limit (the data do not allow it).
PROOF_RULES = ("community_too_small", "area_too_small", "no_feasible_window", "oversized_building",
               "no_feasible_partition")
# The count limits a grid can be outside of.
COUNT_RULES = ("min_households", "max_households", "min_population", "max_population")
# Proofs about a grid's own area: the piece it was divided from (what is left of the community once
# the indivisible units over a limit are set apart) has no partition within every limit.
AREA_PROOFS = ("community_too_small", "area_too_small", "no_feasible_window", "no_feasible_partition")
WIDE = 1000  # columns of the table when the output is not a terminal: the numbers are never cut


def build_report(tasks, results, assignments, previous_assignments, rules: Rules, seconds: float, crs) -> dict:
    communities = [_summary(r.grids, [r.stats]) | {"community_code": t.code, "kind": t.kind} | feasibility(r.grids)
                   | honest_counts(r.grids) for t, r in zip(tasks, results)]
    if previous_assignments is not None:
        moved = _moved(previous_assignments, assignments)
        for community in communities:
            here = moved[moved.index == community["community_code"]]
            community["households_moved_share"] = _moved_share(here)
    grids = pd.concat([r.grids for r in results], ignore_index=True) if results else pd.DataFrame()
    total = _summary(grids, [r.stats for r in results]) | _feasibility_totals(communities) | honest_counts(grids)
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


def _feasibility_totals(communities: list[dict]) -> dict:
    """How many communities cannot meet every limit, and by which proofs."""
    verdict = Counter(c["feasible_partition"] for c in communities)
    kinds = Counter(kind for c in communities for kind in c["infeasibility_proofs"])
    return {
        "communities_feasible_partition": {k: verdict.get(k, 0) for k in ("met", "unknown", "none")},
        "communities_by_proof": dict(sorted(kinds.items())),
    }


def grid_proof(flags: list[dict], building_count: int, counts: tuple[int, int] | None = None) -> str | None:
    """The proof, for this grid, that it cannot meet the count limits it breaks, or None.

    'oversized_building': the grid is one building over a limit with no unit count to split it by
    (with, where the grid's ``counts`` (households, residents) are given, only buildings beside it
    that hold neither: sheds and shops cut off by it add nothing to what it breaks);
    an area proof ('no_feasible_partition:atom_packing', ...): no partition of the piece the grid
    was divided from (the community, less the indivisible units set apart) meets every limit.
    A proof flag on a grid it does not describe (an oversized building's flag on a grid of several
    buildings) proves nothing."""
    rules = {f["rule"]: f for f in flags}
    if "oversized_building" in rules and (building_count == 1 or _only_its_own(rules["oversized_building"], counts)):
        return "oversized_building"
    for rule in AREA_PROOFS:
        if rule in rules:
            return rule + (f":{rules[rule]['proof']}" if "proof" in rules[rule] else "")
    return None


def _only_its_own(flag: dict, counts: tuple[int, int] | None) -> bool:
    """The grid holds the oversized building's households and residents and nothing more."""
    if counts is None or "households" not in flag or "population" not in flag:
        return False
    return (int(flag["households"]), int(flag["population"])) == tuple(int(c) for c in counts)


def honest_counts(grids: pd.DataFrame) -> dict:
    """Grids outside a count limit with and without their own proof, grids in several parts, and the
    share of grids within every limit among the grids that carry no proof (a grid with a proof and
    no other fault is set aside: nothing could do better there; every other grid counts)."""
    if grids.empty:
        return {"grids_outside_limits": 0, "grids_outside_limits_unproven": 0, "grids_outside_limits_by_proof": {},
                "grids_in_several_parts": 0, "within_limits_share_where_feasible": None}
    flags = [json.loads(text) for text in grids["flags"]]
    outside = np.array([any(f["rule"] in COUNT_RULES for f in fs) for fs in flags])
    counts = (list(zip(grids["households"], grids["population"])) if {"households", "population"} <= set(grids)
              else [None] * len(grids))
    proof = [grid_proof(fs, int(n), c) for fs, n, c in zip(flags, grids["building_count"], counts)]
    other_fault = np.array([any(f["rule"] not in COUNT_RULES + PROOF_RULES for f in fs) for fs in flags])
    proven = np.array([p is not None for p in proof])
    judged = ~(proven & ~other_fault)
    within = grids["within_limits"].to_numpy(bool)[judged]
    return {
        "grids_outside_limits": int(outside.sum()),
        "grids_outside_limits_unproven": int((outside & ~proven).sum()),
        "grids_outside_limits_by_proof": dict(sorted(Counter(p for p, o in zip(proof, outside) if o and p).items())),
        "grids_in_several_parts": several_parts(grids),
        "within_limits_share_where_feasible": round(float(within.mean()), 4) if len(within) else None,
    }


def _class_shares(stats: list[dict], inner: float) -> dict[str, float | None]:
    """Share of the grids' inner boundary along streets of each class (major, minor, footway_service,
    and street: roads of no known class); the rest runs along no street."""
    lengths: Counter = Counter()
    for s in stats:
        lengths.update(s.get("inner_boundary_by_street_class_m", {}))
    return {kind: _share(length, inner) for kind, length in lengths.items()}


def several_parts(grids: pd.DataFrame) -> int:
    """Grids whose area is in more than one piece (from the geometry, else from the contiguity flags)."""
    if "geometry" in grids:
        return int((shapely.get_num_geometries(np.asarray(grids["geometry"], dtype=object)) > 1).sum())
    return sum(any(f["rule"] in ("contiguity", "several_parts") for f in json.loads(t)) for t in grids["flags"])


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
    """The report as a table on the terminal (at full width, never cut, when the output is not one)."""
    console = console or report_console()
    table = Table(title=f"geogrid partition ({report['run_time_s']} s)")
    moved = "households_moved_share" in report["total"]
    names = ["community", "grids", "households min/med/max", "residents max", "within limits", "unproven",
             "in parts", "compactness", "on streets"] + (["moved"] if moved else []) + ["flags"]
    for name in names:
        table.add_column(name, justify="right" if name != "flags" else "left", no_wrap=True)
    for row in report["communities"] + [report["total"] | {"community_code": "total"}]:
        table.add_row(*_table_row(row, moved))
    console.print(table)
    total = report["total"]
    counts = total["communities_feasible_partition"]
    share = total.get("within_limits_share_where_feasible")
    console.print(f"Grids within every limit among the grids with no proof that they cannot be: "
                  f"{'-' if share is None else f'{share:.1%}'}; grids outside a limit with no proof: "
                  f"{total.get('grids_outside_limits_unproven', 0)}; grids in several parts: "
                  f"{total.get('grids_in_several_parts', 0)}; communities where no partition meets every limit: "
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


def report_console() -> Console:
    """The terminal's console for tables, or, when the output is a file or a pipe, one wide enough for any row."""
    console = Console(soft_wrap=True)
    return console if console.is_terminal else Console(width=WIDE, soft_wrap=True)


def _table_row(row: dict, moved: bool) -> list[str]:
    share = [f"{row.get('households_moved_share', 0):.0%}"] if moved else []
    if not row.get("grid_count"):
        return [row["community_code"], "0", "", "", "", "", "", "", "", *share, ""]
    h = row["households"]
    street = row["boundary_on_streets_share"]
    return [
        row["community_code"], str(row["grid_count"]), f"{h['min']}/{h['median']:g}/{h['max']}",
        str(row["population"]["max"]), f"{row['within_limits_share']:.0%}",
        str(row.get("grids_outside_limits_unproven", "")), str(row.get("grids_in_several_parts", "")),
        f"{row['mean_compactness']:.2f}", "" if street is None else f"{street:.0%}", *share,
        ", ".join(f"{k}:{v}" for k, v in row["flags"].items()),
    ]
