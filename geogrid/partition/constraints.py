"""The grid rules as small named checks, each returning a machine-readable flag or None."""

from __future__ import annotations

from geogrid.partition.limits import Limits

Flag = dict


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
    return {"rule": "oversized_building", "building_id": building_id,
            "reason": f"building {building_id} alone holds {households} households and {population} residents "
                      f"and has no unit count to split it by, so it is a grid of its own"}


def not_contiguous(parts: int) -> Flag:
    return {"rule": "contiguity", "value": parts, "reason": f"the grid is in {parts} separate parts"}


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
