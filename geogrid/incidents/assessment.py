"""The assessment (考核, 一哨一考核): per department, street, community or grid, how cases were checked in, handled,
closed, rated and reopened, and a score weighted as the assessment file says.

Works over columns (pandas/numpy), never rows: the cases of the period (one row per case) and the steps of their
traces that the assessment reads (dispatch, check_in, handle, assess, reopen). A dispatch starts an episode of
the department's work that the case's next dispatch or reopening ends: the department checked in on time when its
first check-in came within check_in_hours of the dispatch, handled on time when its last handle (after any
rejection) came by the handling deadline. A dispatch still waiting whose deadline has not passed is not counted
either way. Areas are judged on their cases: handled on time is the share closed without running late
(geogrid.incidents.deadlines) among the cases closed or already late.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from geogrid.errors import InputError
from geogrid.incidents.deadlines import CLOSED, overdue_array
from geogrid.incidents.taxonomy import read_toml_model

DEFAULT_FILE = Path(__file__).resolve().parent / "assessment.toml"
LEVELS = ("department", "street", "community", "grid_worker")
LEVEL_NAMES = {"department": ("部门", "Departments"), "street": ("街道", "Streets"),
               "community": ("社区", "Communities"), "grid_worker": ("网格员", "Grid workers")}
KEY_NAMES = {"department": "department", "street": "street", "community": "community", "grid_worker": "grid_code"}
FIGURES = ("checked_in_on_time", "handled_on_time", "closure_rate", "satisfaction", "street_rating", "not_reopened")
CASE_COLUMNS = ("category", "grid_code", "community_code", "street_code", "status", "reported_at", "deadline_at",
                "hours_to_close", "was_overdue", "rating", "reopen_count")
EVENT_ACTIONS = ("dispatch", "check_in", "handle", "assess", "reopen")
EVENT_COLUMNS = ("id", "incident_id", "action", "at", "department", "rating")


class Deadlines(BaseModel):
    """The deadlines the assessment checks, in hours after the street's dispatch."""

    check_in_hours: float = Field(2.0, gt=0)
    handle_hours: float = Field(0.0, ge=0, description="0: the category's level-3 deadline")


class Weights(BaseModel):
    """The weight of each figure in the score (any non-negative numbers; the score divides by their sum)."""

    checked_in_on_time: float = Field(0.15, ge=0)
    handled_on_time: float = Field(0.25, ge=0)
    closure_rate: float = Field(0.10, ge=0)
    satisfaction: float = Field(0.20, ge=0)
    street_rating: float = Field(0.20, ge=0)
    not_reopened: float = Field(0.10, ge=0)


class Formula(BaseModel):
    """An assessment file: deadlines and weights."""

    deadlines: Deadlines = Field(default_factory=Deadlines)
    weights: Weights = Field(default_factory=Weights)

    def handle_hours(self, level3_hours: pd.Series) -> pd.Series:
        """Hours from dispatch to the handling deadline, per dispatch (its category's level-3 deadline by default)."""
        if self.deadlines.handle_hours > 0:
            return pd.Series(self.deadlines.handle_hours, index=level3_hours.index, dtype=float)
        return level3_hours.astype(float)


def read_formula(path: Path) -> Formula:
    """The formula in a TOML file, or InputError naming what is wrong with it."""
    formula = read_toml_model(Formula, path, "assessment")
    if sum(formula.weights.model_dump().values()) <= 0:
        raise InputError(f"the assessment file {path} is wrong: weights: at least one must be above 0")
    return formula


@lru_cache
def load_formula(path: Path | None = None) -> Formula:
    """The formula at path (default: the one shipped with geogrid), read once."""
    return read_formula(path or DEFAULT_FILE)


# --- dispatches ----------------------------------------------------------------------------------------------


def dispatches(events: pd.DataFrame) -> pd.DataFrame:
    """One row per dispatch: incident_id, department, dispatched_at, checked_in_at (first check-in), handled_at
    (last handle) and street_rating (the last assess), from the trace steps (times in seconds, NaN for none)."""
    steps = events.iloc[np.lexsort((events["id"].to_numpy(), events["incident_id"].to_numpy()))]
    incident = steps["incident_id"].to_numpy()
    action = steps["action"].to_numpy()
    new_case = np.r_[True, incident[1:] != incident[:-1]] if len(steps) else np.zeros(0, dtype=bool)
    starts = new_case | (action == "dispatch") | (action == "reopen")
    episode = np.cumsum(starts)  # an episode runs from a dispatch (or reopening, or a case's first step) to the next
    is_dispatch = action == "dispatch"
    out = pd.DataFrame({"incident_id": incident[is_dispatch], "department": steps["department"].to_numpy()[is_dispatch],
                        "dispatched_at": steps["at"].to_numpy(dtype=float)[is_dispatch]},
                       index=pd.Index(episode[is_dispatch], name="episode"))
    at, rating = steps["at"].to_numpy(dtype=float), steps["rating"].to_numpy(dtype=float)
    for name, kind, values, how in (("checked_in_at", "check_in", at, "min"), ("handled_at", "handle", at, "max"),
                                    ("street_rating", "assess", rating, "last")):
        chosen = action == kind
        out[name] = pd.Series(values[chosen]).groupby(episode[chosen]).agg(how).astype(float)
    return out.reset_index(drop=True)


def _on_time_share(done_at: pd.Series, deadline: pd.Series, now: float, key: pd.Series) -> pd.Series:
    """Per key, the share done by the deadline among those done or past it (NaN where none is)."""
    done = done_at.notna().to_numpy()
    decided = done | (now > deadline.to_numpy())
    on_time = done & (done_at.to_numpy() <= deadline.to_numpy())
    frame = pd.DataFrame({"key": key.array, "decided": decided, "on_time": on_time})
    sums = frame.groupby("key", observed=True)[["decided", "on_time"]].sum()
    return (sums["on_time"] / sums["decided"].where(sums["decided"] > 0)).astype(float)


# --- figures ----------------------------------------------------------------------------------------------------


def _case_figures(cases: pd.DataFrame, key: pd.Series) -> pd.DataFrame:
    """Per key, over its cases: cases, closure_rate, satisfaction (mean rating), reopened (share)."""
    frame = pd.DataFrame({
        "key": key.array,
        "closed": (cases["status"] == CLOSED).to_numpy(),
        "rating": cases["rating"].astype(float).to_numpy(),
        "reopened": (cases["reopen_count"].to_numpy() > 0),
    })
    grouped = frame.groupby("key", observed=True)
    return pd.DataFrame({
        "cases": grouped.size(),
        "closure_rate": grouped["closed"].mean(),
        "satisfaction": grouped["rating"].mean(),
        "reopened": grouped["reopened"].mean(),
    })


def _dispatch_figures(table: pd.DataFrame, key: pd.Series, handle_hours: pd.Series, now: float) -> pd.DataFrame:
    """Per key, over its dispatches: checked_in_on_time, handled_on_time (the department's), median hours to
    handle and the street's mean rating."""
    check_in_deadline = table["dispatched_at"] + 3600.0 * table["check_in_hours"]
    handle_deadline = table["dispatched_at"] + 3600.0 * handle_hours
    hours = (table["handled_at"] - table["dispatched_at"]) / 3600.0
    grouped = pd.DataFrame({"key": key.array, "hours": hours.to_numpy(),
                            "street_rating": table["street_rating"].to_numpy()}).groupby("key", observed=True)
    return pd.DataFrame({
        "checked_in_on_time": _on_time_share(table["checked_in_at"], check_in_deadline, now, key),
        "handled_on_time": _on_time_share(table["handled_at"], handle_deadline, now, key),
        "median_hours_to_handle": grouped["hours"].median(),
        "street_rating": grouped["street_rating"].mean(),
    })


def _area_handling(cases: pd.DataFrame, key: pd.Series, now: datetime) -> pd.DataFrame:
    """Per area: handled_on_time (closed without running late, among the closed or late) and the median hours to
    close."""
    closed = (cases["status"] == CLOSED).to_numpy()
    late = overdue_array(cases["was_overdue"].to_numpy(), cases["status"].to_numpy(),
                         cases["deadline_at"].to_numpy(dtype=float), now)
    frame = pd.DataFrame({"key": key.array, "decided": closed | late, "on_time": closed & ~late,
                          "hours": np.where(closed, cases["hours_to_close"].to_numpy(dtype=float), np.nan)})
    grouped = frame.groupby("key", observed=True)
    sums = grouped[["decided", "on_time"]].sum()
    return pd.DataFrame({"handled_on_time": (sums["on_time"] / sums["decided"].where(sums["decided"] > 0)).astype(float),
                         "median_hours_to_handle": grouped["hours"].median()})


def score(figures: pd.DataFrame, weights: Weights) -> pd.Series:
    """100 x the weighted mean of the figures each row has, each as 0..1 (ratings (r - 1) / 4, reopened as
    1 - share); NaN for a row with none."""
    parts = pd.DataFrame({
        "checked_in_on_time": figures["checked_in_on_time"],
        "handled_on_time": figures["handled_on_time"],
        "closure_rate": figures["closure_rate"],
        "satisfaction": (figures["satisfaction"] - 1.0) / 4.0,
        "street_rating": (figures["street_rating"] - 1.0) / 4.0,
        "not_reopened": 1.0 - figures["reopened"],
    }).astype(float)
    w = np.array([getattr(weights, name) for name in FIGURES], dtype=float)
    values = parts[list(FIGURES)].to_numpy()
    present = ~np.isnan(values)
    total = (present * w).sum(axis=1)
    weighted = (np.where(present, values, 0.0) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(total > 0, 100.0 * weighted / total, np.nan), index=figures.index)


def assess(
    cases: pd.DataFrame,
    events: pd.DataFrame,
    level: str,
    formula: Formula,
    level3_hours: dict[str, float],
    now: datetime,
) -> pd.DataFrame:
    """The assessment at level over the cases (indexed by incident id, CASE_COLUMNS, times in seconds) and their
    trace steps (EVENT_COLUMNS, the EVENT_ACTIONS only): one row per department or area code (index `key`) with
    cases, checked_in_on_time, handled_on_time, median_hours_to_handle, closure_rate, satisfaction, reopened,
    street_rating and score, best score first. level3_hours: each category's level-3 deadline in hours."""
    if level not in LEVELS:
        raise InputError(f"unknown assessment level {level!r}; levels: {', '.join(LEVELS)}")
    table = dispatches(events[events["incident_id"].isin(cases.index)])
    table["check_in_hours"] = formula.deadlines.check_in_hours
    category = cases["category"].astype(str).reindex(table["incident_id"]).to_numpy()
    handle_hours = formula.handle_hours(pd.Series(category, index=table.index).map(level3_hours))
    stamp = now.timestamp()
    if level == "department":
        pairs = table[["incident_id", "department"]].drop_duplicates()
        figures = _case_figures(cases.loc[pairs["incident_id"]], pairs["department"])
        figures = figures.join(_dispatch_figures(table, table["department"], handle_hours, stamp), how="left")
    else:
        column = "grid_code" if level == "grid_worker" else f"{level}_code"
        located = cases[cases[column].notna()]
        key = located[column]
        figures = _case_figures(located, key).join(_area_handling(located, key, now), how="left")
        area_of = key.reindex(table["incident_id"]).array
        dispatched = table.assign(area=area_of).dropna(subset=["area"])
        figures = figures.join(
            _dispatch_figures(dispatched, dispatched["area"], handle_hours.loc[dispatched.index], stamp)
            .drop(columns=["handled_on_time", "median_hours_to_handle"]), how="left")
    columns = ["cases", "checked_in_on_time", "handled_on_time", "median_hours_to_handle", "closure_rate",
               "satisfaction", "reopened", "street_rating"]
    figures = figures.reindex(columns=columns)
    figures["score"] = score(figures, formula.weights)
    figures.index.name = "key"
    return figures.sort_values(["score", "cases"], ascending=[False, False], na_position="last")


def as_rows(figures: pd.DataFrame, digits: int = 4) -> list[dict[str, float | int | str | None]]:
    """The assessment as JSON-ready rows (key first; NaN as None, shares and means rounded)."""
    rows = []
    for key, values in zip(figures.index, figures.to_dict("records"), strict=True):
        row: dict[str, float | int | str | None] = {"key": str(key)}
        for name, value in values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                row[name] = None
            elif name == "cases":
                row[name] = int(value)
            else:
                row[name] = round(float(value), digits)
        rows.append(row)
    return rows

