"""Comparing two plans: each building listed once, households moved counted by the units that changed grid."""

from __future__ import annotations

import pandas as pd

from geogrid.partition.comparing import changes

COLUMNS = ["building_id", "units", "grid_code", "households", "population"]


def frame(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COLUMNS)


def test_a_tower_split_by_units_in_one_plan_and_whole_in_the_other_is_listed_once() -> None:
    a = frame(("B000003", "", "C-03", 480, 1400), ("B000004", "", "C-03", 60, 150))
    b = frame(("B000003", "1-2", "C-03", 192, 560), ("B000003", "3-5", "C-05", 288, 840),
              ("B000004", "", "C-03", 60, 150))
    found = changes(a, b)
    assert found.to_dict("records") == [{"building_id": "B000003", "units": "1-2:03,3-5:05", "grid_a": "C-03",
                                         "grid_b": "C-03,C-05", "households": 288, "population": 840}]


def test_units_regrouped_within_one_grid_move_no_one() -> None:
    a = frame(("T1", "1-2", "C-05", 96, 300), ("T1", "3-4", "C-05", 96, 300))
    b = frame(("T1", "", "C-05", 192, 600))
    assert changes(a, b).empty


def test_households_moved_are_those_that_changed_grid() -> None:
    a = frame(("T1", "1-2", "C-05", 96, 300), ("T1", "3-4", "C-06", 96, 300), ("B1", "", "C-06", 40, 100),
              ("B2", "", "C-06", 30, 80), ("B3", "", None, 20, 50))
    b = frame(("T1", "1-2", "C-05", 96, 300), ("T1", "3-4", "C-05", 96, 300), ("B1", "", "C-05", 40, 100),
              ("B2", "", "C-06", 30, 80), ("B3", "", "C-06", 20, 50), ("B4", "", "C-06", 10, 20))
    found = changes(a, b).set_index("building_id")
    assert sorted(found.index) == ["B1", "B3", "B4", "T1"]
    assert found.loc["T1", "households"] == 96 and found.loc["T1", "grid_a"] == "C-05,C-06"
    assert pd.isna(found.loc["B3", "grid_a"]) and found.loc["B3", "grid_b"] == "C-06"
    assert pd.isna(found.loc["B4", "grid_a"]) and found.loc["B4", "households"] == 10
    assert found["households"].sum() == 96 + 40 + 20 + 10
    assert changes(b, a)["households"].sum() == 96 + 40 + 20 + 10
