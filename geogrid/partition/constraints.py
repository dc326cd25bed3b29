"""The grid rules as small named checks, each returning a machine-readable flag or None."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np
import shapely

from geogrid.partition.limits import Limits

Flag = dict
CUT_SHRINK_M = 0.05  # a footprint is cut when, shrunk by this, it still reaches out of its grid ...
CUT_AREA_M2 = 0.01  # ... by more than this


def too_few_households(households: int, population: int, limits: Limits) -> Flag | None:
    if households < limits.min_households:
        return {"rule": "min_households", "value": int(households), "limit": limits.min_households,
                "reason": f"{households} households, below the minimum of {limits.min_households:g}"}
    return None


def too_many_households(households: int, population: int, limits: Limits) -> Flag | None:
    if households > limits.max_households:
        return {"rule": "max_households", "value": int(households), "limit": limits.max_households,
                "reason": f"{households} households, above the maximum of {limits.max_households:g}"}
    return None


def too_few_residents(households: int, population: int, limits: Limits) -> Flag | None:
    if population < limits.min_population:
        return {"rule": "min_population", "value": int(population), "limit": limits.min_population,
                "reason": f"{population} residents, below the minimum of {limits.min_population:g}"}
    return None


def too_many_residents(households: int, population: int, limits: Limits) -> Flag | None:
    if population > limits.max_population:
        return {"rule": "max_population", "value": int(population), "limit": limits.max_population,
                "reason": f"{population} residents, above the maximum of {limits.max_population:g}"}
    return None


COUNT_CHECKS = (too_few_households, too_many_households, too_few_residents, too_many_residents)


def count_flags(households: int, population: int, limits: Limits) -> list[Flag]:
    """Every count limit that a grid with these totals breaks."""
    return [flag for check in COUNT_CHECKS if (flag := check(households, population, limits))]


def grid_flags(households: int, population: int, parts: int, limits: Limits, *, found: Iterable[Flag] = (),
               proof: Flag | None = None, cut: Sequence[str] = (), parts_reason: str = "") -> list[Flag]:
    """Every rule one grid breaks, in the order a plan lists them: what the engine found of it (an
    oversized building, no feasible window), its count limits (with the proof that no partition of
    its area meets them, where one is known), contiguity (parts: its separate polygons, and why they could
    not be joined) and the footprints its boundary cuts."""
    broken = count_flags(households, population, limits)
    flags = [*found, *broken, *([proof] if broken and proof else [])]
    if parts > 1:
        flags.append(not_contiguous(int(parts), parts_reason))
    if cut:
        flags.append(building_cut(list(cut)))
    return flags


def cut_footprints(footprints: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Pairwise, in a metric CRS: does each footprint reach out of the grid it is assigned to (shrunk by
    CUT_SHRINK_M, more than CUT_AREA_M2 of it still lies outside)?"""
    outside = shapely.area(shapely.difference(shapely.buffer(footprints, -CUT_SHRINK_M), grids))
    return outside > CUT_AREA_M2


def breaks_a_rule(within_limits: bool | None, flags: Sequence[Flag] | None) -> bool:
    """A grid breaks a rule when it is outside a limit or carries any flag (its SQL twin:
    ``geogrid.store.grids.breaks_a_rule``)."""
    return within_limits is False or bool(flags)


def flag_columns(flags: Sequence[list[Flag]]) -> dict[str, list]:
    """The within_limits and flags (JSON text) columns of grids with these flags: a grid is within
    every limit when it breaks no rule."""
    return {"within_limits": [not f for f in flags], "flags": [json.dumps(f, ensure_ascii=False) for f in flags]}


def community_too_small(households: int, population: int, limits: Limits) -> Flag:
    return {"rule": "community_too_small",
            "reason": f"the community has {households} households and {population} residents, "
                      f"too few for even one full grid"}


def area_too_small(households: int, population: int, limits: Limits) -> Flag:
    """A part of the community that no grid within the limits can reach: too small for one full grid."""
    return {"rule": "area_too_small",
            "reason": f"this part of the community, not connected to the rest once the buildings that are grids of "
                      f"their own are set apart, has {households} households and {population} residents, too few "
                      f"for one full grid"}


def no_feasible_window(households: int, population: int, limits: Limits) -> Flag:
    size = population / households if households else 0
    return {"rule": "no_feasible_window",
            "reason": f"{households} households of {size:.2f} people each cannot be divided into grids of "
                      f"{limits.min_households:g}-{limits.max_households:g} households with at most "
                      f"{limits.max_population:g} residents"}


def oversized_building(building_id: str, households: int, population: int) -> Flag:
    # its counts: the report proves its grid while the grid holds nothing more (see report.grid_proof)
    return {"rule": "oversized_building", "building_id": building_id, "households": households,
            "population": population,
            "reason": f"building {building_id} alone holds {households} households and {population} residents "
                      f"and has no unit count to split it by, so it is a grid of its own"}


def not_contiguous(parts: int, why: str = "") -> Flag:
    """The grid's area is in several parts (rule ``several_parts``), and why it could not be helped."""
    return {"rule": "several_parts", "value": parts,
            "reason": f"the grid is in {parts} separate parts" + (f": {why}" if why else "")}


def building_cut(building_ids: list[str]) -> Flag:
    return {"rule": "building_cut", "building_ids": building_ids,
            "reason": f"{len(building_ids)} footprints cross the grid boundary: {', '.join(building_ids[:5])}"}


def no_feasible_partition(proof: str, atoms: int, cells: int, limits: Limits) -> Flag:
    """The limits cannot all be met here by any partition: ``proof`` says which programme showed it."""
    window = _window_text(limits)
    units = f"{atoms} indivisible units (buildings, tower units or villager groups)"
    if proof == "atom_packing":
        why = (f"no grouping of its {units} gives every grid {window}, whatever the grids' shapes "
               f"(proved by an integer programme over the counts alone)")
    else:
        why = (f"its {units} can be grouped within {window}, but not into connected grids of its "
               f"{cells} cells (proved on the cells' adjacency, by an integer programme or, where one cell "
               f"cuts the area, by an exhaustive search)")
    return {"rule": "no_feasible_partition", "proof": proof, "atoms": atoms, "cells": cells,
            "reason": f"no partition of this area meets every limit: {why}"}


def _window_text(limits: Limits) -> str:
    """'300-500 households and at most 1000 residents' (only the limits that bind)."""
    parts = [_range_text(limits.min_households, limits.max_households, "households"),
             _range_text(limits.min_population, limits.max_population, "residents")]
    return " and ".join(p for p in parts if p)


def _range_text(low: float, high: float, what: str) -> str:
    if low > 0 and high != float("inf"):
        return f"{low:g}-{high:g} {what}"
    if high != float("inf"):
        return f"at most {high:g} {what}"
    return f"at least {low:g} {what}" if low > 0 else ""
