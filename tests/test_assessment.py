"""The assessment (考核) on a hand-made history whose answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geogrid.errors import InputError
from geogrid.incidents import assessment
from geogrid.incidents.assessment import Formula, Weights, assess, dispatches, load_formula, read_formula

T0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
NOW = datetime(2026, 3, 10, tzinfo=UTC)
HOUR = 3600.0
LEVEL3 = {"city_management": 72.0, "fire_safety": 24.0}


def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four cases in two streets; three dispatches to urban management (one after a reopening), one to fire."""
    cases = pd.DataFrame({
        "id": [1, 2, 3, 4],
        "category": ["city_management", "city_management", "fire_safety", "city_management"],
        "grid_code": ["S1-C1-01", "S1-C1-01", "S1-C2-01", "S2-C3-01"],
        "community_code": ["S1-C1", "S1-C1", "S1-C2", "S2-C3"],
        "street_code": ["S1", "S1", "S1", "S2"],
        "status": ["closed", "closed", "checked_in", "reported"],
        "reported_at": [T0, T0, T0, T0],
        "deadline_at": [np.nan, np.nan, T0 + 24 * HOUR, NOW.timestamp() + 24 * HOUR],
        "hours_to_close": [10.0, 100.0, np.nan, np.nan],
        "was_overdue": [False, True, False, False],
        "rating": [5, 3, None, None],
        "reopen_count": [0, 1, 0, 0],
    }).set_index("id")
    steps = [  # id, incident, action, hours after T0, department, rating
        (10, 1, "dispatch", 0, "urban_management", None), (11, 1, "check_in", 1, None, None),
        (12, 1, "handle", 5, None, None), (13, 1, "assess", 6, "urban_management", 4),
        (20, 2, "dispatch", 0, "urban_management", None), (21, 2, "check_in", 3, None, None),
        (22, 2, "handle", 80, None, None), (23, 2, "assess", 81, "urban_management", 2),
        (24, 2, "reopen", 90, None, None), (25, 2, "dispatch", 200, "urban_management", None),
        (26, 2, "check_in", 201, None, None), (27, 2, "handle", 210, None, None),
        (30, 3, "dispatch", 0, "fire_rescue", None), (31, 3, "check_in", 0.5, None, None),
    ]
    events = pd.DataFrame(steps, columns=["id", "incident_id", "action", "at", "department", "rating"])
    events["at"] = T0 + events["at"] * HOUR
    events["deadline_at"] = np.nan  # no dispatch gave its own deadline: the category's level-3 one holds
    return cases, events


def run(level: str, formula: Formula | None = None) -> pd.DataFrame:
    cases, events = history()
    return assess(cases, events, level, formula or load_formula(), LEVEL3, NOW)


def test_each_dispatch_is_an_episode_that_a_reopening_ends() -> None:
    table = dispatches(history()[1]).set_index(["incident_id", "dispatched_at"])
    assert len(table) == 4
    second = table.loc[(2, T0 + 200 * HOUR)]
    assert second["checked_in_at"] == T0 + 201 * HOUR and second["handled_at"] == T0 + 210 * HOUR
    assert np.isnan(second["street_rating"])
    assert table.loc[(2, T0), "street_rating"] == 2 and table.loc[(2, T0), "handled_at"] == T0 + 80 * HOUR
    assert np.isnan(table.loc[(3, T0), "handled_at"])


def test_departments_are_judged_on_their_dispatches() -> None:
    rows = run("department")
    assert list(rows.index) == ["urban_management", "fire_rescue"]
    urban = rows.loc["urban_management"]
    assert urban["cases"] == 2
    assert urban["checked_in_on_time"] == pytest.approx(2 / 3)  # 1 h and 1 h on time, 3 h late (2 h allowed)
    assert urban["handled_on_time"] == pytest.approx(2 / 3)  # 5 h and 10 h within 72 h, 80 h late
    assert urban["median_hours_to_handle"] == pytest.approx(10.0)
    assert urban["street_rating"] == pytest.approx(3.0)
    assert urban["satisfaction"] == pytest.approx(4.0)
    assert urban["reopened"] == pytest.approx(0.5)
    assert urban["closure_rate"] == pytest.approx(1.0)
    # 0.15 * 2/3 + 0.25 * 2/3 + 0.10 * 1 + 0.20 * 0.75 + 0.20 * 0.5 + 0.10 * 0.5
    assert urban["score"] == pytest.approx(66.6667, abs=1e-3)
    fire = rows.loc["fire_rescue"]
    assert fire["checked_in_on_time"] == 1.0 and fire["handled_on_time"] == 0.0  # not handled, 24 h passed
    assert np.isnan(fire["median_hours_to_handle"]) and np.isnan(fire["satisfaction"])
    assert fire["score"] == pytest.approx(100 * (0.15 + 0.10) / 0.60)  # unrated figures leave their weight out


def test_a_deadline_given_with_the_dispatch_is_the_one_the_department_is_judged_by() -> None:
    cases, events = history()
    first = (events["incident_id"] == 1) & (events["action"] == "dispatch")
    events.loc[first, "deadline_at"] = T0 + 4 * HOUR  # the street gave 4 h; handled after 5 h: late
    later = (events["incident_id"] == 2) & (events["action"] == "dispatch") & (events["at"] == T0)
    events.loc[later, "deadline_at"] = T0 + 96 * HOUR  # the street gave 96 h; handled after 80 h: on time
    table = dispatches(events).set_index(["incident_id", "dispatched_at"])
    assert table.loc[(1, T0), "deadline_at"] == T0 + 4 * HOUR and np.isnan(table.loc[(2, T0 + 200 * HOUR), "deadline_at"])
    urban = assess(cases, events, "department", load_formula(), LEVEL3, NOW).loc["urban_management"]
    assert urban["handled_on_time"] == pytest.approx(2 / 3)  # 5 h > 4 h late; 80 h <= 96 h and 10 h <= 72 h on time
    events.loc[later, "deadline_at"] = np.nan
    urban = assess(cases, events, "department", load_formula(), LEVEL3, NOW).loc["urban_management"]
    assert urban["handled_on_time"] == pytest.approx(1 / 3)  # only the second dispatch's 10 h within its 72 h


def test_streets_are_judged_on_their_cases() -> None:
    rows = run("street")
    assert list(rows.index) == ["S1", "S2"]
    s1 = rows.loc["S1"]
    assert s1["cases"] == 3 and s1["closure_rate"] == pytest.approx(2 / 3)
    assert s1["handled_on_time"] == pytest.approx(1 / 3)  # case 1 on time; case 2 was late; case 3 open and late
    assert s1["median_hours_to_handle"] == pytest.approx(55.0)
    assert s1["checked_in_on_time"] == pytest.approx(3 / 4)
    assert s1["street_rating"] == pytest.approx(3.0) and s1["satisfaction"] == pytest.approx(4.0)
    assert s1["reopened"] == pytest.approx(1 / 3)
    assert s1["score"] == pytest.approx(57.9167, abs=1e-3)
    s2 = rows.loc["S2"]
    assert np.isnan(s2["handled_on_time"])  # open and not yet due: neither on time nor late
    assert s2["score"] == pytest.approx(50.0)  # closure 0 and nothing reopened, weighted 0.10 each


def test_communities_and_grids_count_their_own_cases() -> None:
    communities = run("community")
    assert communities["cases"].to_dict() == {"S1-C1": 2, "S1-C2": 1, "S2-C3": 1}
    assert communities.loc["S1-C1", "handled_on_time"] == pytest.approx(0.5)
    grids = run("grid_worker")
    assert grids.loc["S1-C2-01", "checked_in_on_time"] == 1.0 and grids.loc["S1-C2-01", "handled_on_time"] == 0.0


def test_a_districts_own_formula_changes_the_score(tmp_path: Path) -> None:
    path = tmp_path / "assessment.toml"
    path.write_text("[deadlines]\ncheck_in_hours = 4\nhandle_hours = 100\n[weights]\n"
                    "checked_in_on_time = 1\nhandled_on_time = 1\nclosure_rate = 0\nsatisfaction = 0\n"
                    "street_rating = 0\nnot_reopened = 0\n", encoding="utf-8")
    urban = run("department", read_formula(path)).loc["urban_management"]
    assert urban["checked_in_on_time"] == 1.0 and urban["handled_on_time"] == 1.0 and urban["score"] == 100.0


def test_the_default_weights_are_the_shipped_file() -> None:
    assert load_formula().weights == Weights() and load_formula().deadlines.check_in_hours == 2


@pytest.mark.parametrize("text, words", [
    ("[weights]\nsatisfaction = -1\n", "weights.satisfaction"),
    ("[weights]\nchecked_in_on_time = 0\nhandled_on_time = 0\nclosure_rate = 0\nsatisfaction = 0\n"
     "street_rating = 0\nnot_reopened = 0\n", "at least one"),
    ("[deadlines\n", "not valid TOML"),
    ("[deadlines]\ncheck_in_hours = 0\n", "deadlines.check_in_hours"),
])
def test_a_bad_assessment_file_is_named(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=words.replace("[", r"\[")):
        read_formula(path)


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(InputError, match="unknown assessment level"):
        run("planet")


def test_rows_are_json_ready() -> None:
    rows = assessment.as_rows(run("street"))
    assert rows[0]["key"] == "S1" and rows[0]["cases"] == 3 and rows[1]["handled_on_time"] is None


@pytest.mark.parametrize("level", assessment.LEVELS)
def test_codes_as_categories_give_the_same_figures(level: str) -> None:
    cases, events = history()
    coded = cases.astype({c: "category" for c in ("category", "grid_code", "community_code", "street_code", "status")})
    plain = assess(cases, events, level, load_formula(), LEVEL3, NOW)
    categorical = assess(coded, events, level, load_formula(), LEVEL3, NOW)
    assert list(categorical.index.astype(str)) == list(plain.index)
    assert np.allclose(categorical.to_numpy(dtype=float), plain.to_numpy(dtype=float), equal_nan=True)
