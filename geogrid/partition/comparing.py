"""What changed between two plans of one community, building by building (a tower split by units counted by units)."""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANGE_COLUMNS = ["building_id", "units", "grid_a", "grid_b", "households", "population"]
NO_GRID = ""  # a building (or unit range) in no grid


def changes(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """One row per building whose grids differ between assignments a and b (building_id, units, grid_code,
    households, population): its grids in a and in b (several, comma-separated, for a tower split by units;
    None for no grid), the unit ranges of b where it is split (else ""), and the households and residents
    that changed grid: in each grid, what the building holds there in one plan and not in the other.

    A tower re-split from units 1-2 and 3-4 in grid 05 to all in grid 05 moved no one; one whose units 3-4
    went from 05 to 06 moved those units' households only; a building new in b (or gone from it) moved all.
    """
    held_a, held_b = _per_grid(a), _per_grid(b)
    both = held_a.join(held_b, how="outer", lsuffix="_a", rsuffix="_b").fillna(0)
    lost = (both[["households_a", "population_a"]].to_numpy() - both[["households_b", "population_b"]].to_numpy())
    by_building = pd.DataFrame({"left_h": np.clip(lost[:, 0], 0, None), "joined_h": np.clip(-lost[:, 0], 0, None),
                                "left_p": np.clip(lost[:, 1], 0, None), "joined_p": np.clip(-lost[:, 1], 0, None)},
                               index=both.index).groupby(level="building_id").sum()
    moved_h = np.maximum(by_building["left_h"], by_building["joined_h"])
    moved_p = np.maximum(by_building["left_p"], by_building["joined_p"])
    grids_a, grids_b = _grids(a), _grids(b)
    ids = by_building.index
    differ = grids_a.reindex(ids).fillna("-") != grids_b.reindex(ids).fillna("-")
    changed = ids[(moved_h > 0) | (moved_p > 0) | differ.to_numpy()]
    return pd.DataFrame({
        "building_id": changed.astype(str),
        "units": _units(b).reindex(changed).fillna("").to_numpy(),
        "grid_a": _or_none(grids_a.reindex(changed)),
        "grid_b": _or_none(grids_b.reindex(changed)),
        "households": moved_h.reindex(changed).astype(int).to_numpy(),
        "population": moved_p.reindex(changed).astype(int).to_numpy(),
    }, columns=CHANGE_COLUMNS)


def _per_grid(assignments: pd.DataFrame) -> pd.DataFrame:
    """Households and residents per (building, grid), unit ranges summed."""
    frame = assignments.assign(grid_code=assignments["grid_code"].fillna(NO_GRID).astype(str))
    return frame.groupby(["building_id", "grid_code"])[["households", "population"]].sum()


def _grids(assignments: pd.DataFrame) -> pd.Series:
    """Each building's grids, sorted and comma-separated ("" for none)."""
    codes = assignments["grid_code"].fillna(NO_GRID).astype(str)
    return codes.groupby(assignments["building_id"]).agg(lambda c: ",".join(sorted(set(c) - {NO_GRID})))


def _units(assignments: pd.DataFrame) -> pd.Series:
    """Each split tower's unit ranges with their grid ("1-2:05,3-4:06")."""
    split = assignments[assignments["units"].astype(str) != ""]
    text = split["units"].astype(str) + ":" + split["grid_code"].fillna("-").astype(str).str.split("-").str[-1]
    return text.groupby(split["building_id"]).agg(",".join)


def _or_none(values: pd.Series) -> np.ndarray:
    return np.array([None if (v is None or v != v or v == "") else v for v in values], dtype=object)
