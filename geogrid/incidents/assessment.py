"""The assessment (考核, 一哨一考核): per department, street, community or grid, how cases were checked in, handled,
closed, rated and reopened, and a score weighted as the assessment file says.

Works over columns (pandas/numpy), never rows: the cases of the period (one row per case) and the steps of their
traces that the assessment reads (dispatch, check_in, handle, assess, reopen). A dispatch starts an episode of
the department's work that the case's next dispatch or reopening ends: the department checked in on time when its
first check-in came within check_in_hours of the dispatch, handled on time when its last handle (after any
rejection) came by the handling deadline: the one the street gave with the dispatch (its ``deadline_at``), else
handle_hours after it. A dispatch still waiting whose deadline has not passed is not counted
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
EVENT_COLUMNS = ("id", "incident_id", "action", "at", "department", "rating", "deadline_at")


class Deadlines(BaseModel):
    """The deadlines the assessment checks, in hours after the street's dispatch."""

    check_in_hours: float = Field(2.0, gt=0)
    handle_hours: float = Field(0.0, ge=0, description="for a dispatch that gave no deadline; 0: the category's "
                                "level-3 deadline")


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
        """Hours from dispatch to the handling deadline of a dispatch that gave none (its category's level-3 deadline
        by default)."""
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
    """One row per dispatch: incident_id, department, dispatched_at, deadline_at (the handling deadline the dispatch
    gave), checked_in_at (first check-in), handled_at (last handle) and street_rating (the last assess), from the
    trace steps (times in seconds, NaN for none)."""
    steps = events.iloc[np.lexsort((events["id"].to_numpy(), events["incident_id"].to_numpy()))]
    incident = steps["incident_id"].to_numpy()
    action = steps["action"].to_numpy()
    new_case = np.r_[True, incident[1:] != incident[:-1]] if len(steps) else np.zeros(0, dtype=bool)
    starts = new_case | (action == "dispatch") | (action == "reopen")
    episode = np.cumsum(starts)  # an episode runs from a dispatch (or reopening, or a case's first step) to the next
    is_dispatch = action == "dispatch"
    out = pd.DataFrame({"incident_id": incident[is_dispatch], "department": steps["department"].to_numpy()[is_dispatch],
                        "dispatched_at": steps["at"].to_numpy(dtype=float)[is_dispatch],
                        "deadline_at": steps["deadline_at"].to_numpy(dtype=float)[is_dispatch]},
                       index=pd.Index(episode[is_dispatch], name="episode"))
    at, rating = steps["at"].to_numpy(dtype=float), steps["rating"].to_numpy(dtype=float)
    for name, kind, values, how in (("checked_in_at", "check_in", at, "min"), ("handled_at", "handle", at, "max"),
                                    ("street_rating", "assess", rating, "last")):
        chosen = action == kind
        out[name] = pd.Series(values[chosen]).groupby(episode[chosen]).agg(how).astype(float)
    return out.reset_index(drop=True)


def _positions(index: pd.Index, ids: np.ndarray) -> np.ndarray:
    """Each id's position in index (-1 where it is not there): a binary search when the index is sorted (the
    store's cases are, as a rule), else pandas' hash lookup."""
    values = index.to_numpy()
    ids = np.asarray(ids)
    if len(values) and values.dtype.kind in "iu" and ids.dtype.kind in "iu" and bool(np.all(values[1:] > values[:-1])):
        found = np.minimum(np.searchsorted(values, ids), len(values) - 1)
        return np.where(values[found] == ids, found, -1)
    return index.get_indexer(ids)


def _groups(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Group codes (-1 for none) and their labels, in the order pandas' groupby gives them: a categorical's
    categories in their order, other values sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return np.asarray(values.array.codes, dtype=np.intp), pd.Index(values.array.categories)
    codes, labels = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.intp), pd.Index(labels)


def _sums(codes: np.ndarray, size: int, values: np.ndarray | None = None) -> np.ndarray:
    """Per group 0..size-1, the sum of values (or the count of members) over the rows with a group."""
    if len(codes) and codes.min() >= 0:  # every row has a group: no copy of the codes
        return np.bincount(codes, weights=None if values is None else np.asarray(values, dtype=float), minlength=size)
    chosen = codes >= 0
    weights = None if values is None else np.asarray(values, dtype=float)[chosen]
    return np.bincount(codes[chosen], weights=weights, minlength=size)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator per group, NaN where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _mean(codes: np.ndarray, size: int, values: np.ndarray) -> np.ndarray:
    """Per group, the mean of the values that are not NaN (NaN where none is), as pandas' groupby mean."""
    values = np.asarray(values, dtype=float)
    present = ~np.isnan(values)
    kept = np.where(present, codes, -1)
    return _ratio(_sums(kept, size, np.where(present, values, 0.0)), _sums(kept, size))


def _median(codes: np.ndarray, size: int, values: np.ndarray) -> np.ndarray:
    """Per group, the median of the values that are not NaN (NaN where none is), as pandas' groupby median: one
    sort of the values, then a stable sort by group, and the middle one (or the mean of the middle two)."""
    values = np.asarray(values, dtype=float)
    chosen = (codes >= 0) & ~np.isnan(values)
    group, kept = codes[chosen], values[chosen]
    by_value = np.argsort(kept)
    small = group[by_value].astype(np.int16 if size < 2**15 else np.int64)  # 16-bit codes sort by radix
    ordered = kept[by_value[np.argsort(small, kind="stable")]]
    counts = np.bincount(group, minlength=size)
    starts = np.cumsum(counts) - counts
    out = np.full(size, np.nan)
    has = counts > 0
    low, high = (starts + (counts - 1) // 2)[has], (starts + counts // 2)[has]
    out[has] = (ordered[low] + ordered[high]) / 2
    return out


def _on_time(codes: np.ndarray, size: int, done_at: np.ndarray, deadline: np.ndarray, now: float) -> np.ndarray:
    """Per group, the share done by the deadline among those done or past it (NaN where none is)."""
    done = ~np.isnan(done_at)
    with np.errstate(invalid="ignore"):
        decided = done | (now > deadline)
        on_time = done & (done_at <= deadline)
    return _ratio(_sums(codes, size, on_time), _sums(codes, size, decided))


# --- figures ----------------------------------------------------------------------------------------------------


def _case_figures(cases: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Per group, over the cases at positions rows (codes their groups): cases, closure_rate, satisfaction (mean
    rating), reopened (share)."""
    count = _sums(codes, size)
    closed = np.asarray(cases["status"] == CLOSED, dtype=bool)[rows]
    reopened = cases["reopen_count"].to_numpy()[rows] > 0
    return {
        "cases": count.astype(np.int64),
        "closure_rate": _ratio(_sums(codes, size, closed), count),
        "satisfaction": _mean(codes, size, cases["rating"].to_numpy(dtype=float)[rows]),
        "reopened": _ratio(_sums(codes, size, reopened), count),
    }


def _dispatch_figures(table: pd.DataFrame, codes: np.ndarray, size: int, handle_hours: np.ndarray | None,
                      check_in_hours: float, now: float) -> dict[str, np.ndarray]:
    """Per group, over its dispatches: checked_in_on_time, the street's mean rating and, with handle_hours (the
    departments'), handled_on_time and the median hours to handle."""
    dispatched = table["dispatched_at"].to_numpy(dtype=float)
    figures = {
        "checked_in_on_time": _on_time(codes, size, table["checked_in_at"].to_numpy(dtype=float),
                                       dispatched + 3600.0 * check_in_hours, now),
        "street_rating": _mean(codes, size, table["street_rating"].to_numpy(dtype=float)),
    }
    if handle_hours is not None:
        handled, given = table["handled_at"].to_numpy(dtype=float), table["deadline_at"].to_numpy(dtype=float)
        due = np.where(np.isnan(given), dispatched + 3600.0 * handle_hours, given)  # the dispatch's own, if given
        figures["handled_on_time"] = _on_time(codes, size, handled, due, now)
        figures["median_hours_to_handle"] = _median(codes, size, (handled - dispatched) / 3600.0)
    return figures


def _area_handling(cases: pd.DataFrame, codes: np.ndarray, size: int, now: datetime) -> dict[str, np.ndarray]:
    """Per area: handled_on_time (closed without running late, among the closed or late) and the median hours to
    close."""
    closed = np.asarray(cases["status"] == CLOSED, dtype=bool)
    late = overdue_array(cases["was_overdue"].to_numpy(), cases["status"], cases["deadline_at"].to_numpy(dtype=float),
                         now)
    hours = np.where(closed, cases["hours_to_close"].to_numpy(dtype=float), np.nan)
    return {"handled_on_time": _ratio(_sums(codes, size, closed & ~late), _sums(codes, size, closed | late)),
            "median_hours_to_handle": _median(codes, size, hours)}


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
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The assessment at level over the cases (indexed by incident id, CASE_COLUMNS, times in seconds) and their
    trace steps (EVENT_COLUMNS, the EVENT_ACTIONS only): one row per department or area code (index `key`) with
    cases, checked_in_on_time, handled_on_time, median_hours_to_handle, closure_rate, satisfaction, reopened,
    street_rating and score, best score first. level3_hours: each category's level-3 deadline in hours. table:
    dispatches(events), when the caller keeps it (it depends on the steps alone).

    Whole arrays throughout: groups as integer codes, sums and counts by np.bincount, medians by one sort."""
    if level not in LEVELS:
        raise InputError(f"unknown assessment level {level!r}; levels: {', '.join(LEVELS)}")
    table = dispatches(events) if table is None else table
    rows = _positions(cases.index, table["incident_id"].to_numpy())
    table, rows = table[rows >= 0], rows[rows >= 0]  # the dispatches of these cases
    stamp, check_in = now.timestamp(), formula.deadlines.check_in_hours
    if level == "department":
        category, categories = _groups(cases["category"].iloc[rows])  # each dispatch's category
        level3 = np.array([level3_hours.get(str(c), np.nan) for c in categories] + [np.nan], dtype=float)
        handle_hours = formula.handle_hours(pd.Series(level3[category])).to_numpy(dtype=float)
        codes, labels = _groups(table["department"])
        size = len(labels)
        pairs = np.unique(rows.astype(np.int64) * (size + 1) + (codes + 1))  # each case once per department
        pair_rows, pair_codes = pairs // (size + 1), pairs % (size + 1) - 1
        figures = _case_figures(cases, pair_rows, pair_codes, size)
        figures |= _dispatch_figures(table, codes, size, handle_hours, check_in, stamp)
    else:
        column = "grid_code" if level == "grid_worker" else f"{level}_code"
        codes, labels = _groups(cases[column])
        size = len(labels)
        figures = _case_figures(cases, slice(None), codes, size) | _area_handling(cases, codes, size, now)
        figures |= _dispatch_figures(table, codes[rows], size, None, check_in, stamp)
    present = figures["cases"] > 0
    columns = ["cases", "checked_in_on_time", "handled_on_time", "median_hours_to_handle", "closure_rate",
               "satisfaction", "reopened", "street_rating"]
    frame = pd.DataFrame({name: figures[name][present] for name in columns},
                         index=pd.Index(labels[present], name="key"))
    frame["score"] = score(frame, formula.weights)
    return frame.sort_values(["score", "cases"], ascending=[False, False], na_position="last")


def _rounded(values: np.ndarray, digits: int) -> list[float | None]:
    """Python's round(v, digits) of each value (NaN as None), computed by numpy: rint(v x 10^digits) / 10^digits is
    the same double whenever v x 10^digits is not within a few ulps of a half (there, Python's round decides)."""
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        fraction = np.abs(scaled - np.trunc(scaled))
        unsure = ~(np.abs(fraction - 0.5) > np.maximum(8 * np.spacing(np.abs(scaled)), 1e-9))
        out: list[float | None] = (np.rint(scaled) / scale).tolist()
    missing = np.isnan(values)
    for i in np.flatnonzero(unsure | missing).tolist():
        out[i] = None if missing[i] else round(float(values[i]), digits)
    return out


def as_rows(figures: pd.DataFrame, digits: int = 4) -> list[dict[str, float | int | str | None]]:
    """The assessment as JSON-ready rows (key first; NaN as None, shares and means rounded), a column at a time."""
    columns: dict[str, list[float | int | None]] = {}
    for name in figures.columns:
        values = figures[name].to_numpy(dtype=float)
        if name == "cases":
            columns[name] = [None if v != v else int(v) for v in values.tolist()]  # v != v: NaN
        else:
            columns[name] = _rounded(values, digits)
    names = list(columns)
    keys = [str(key) for key in figures.index.astype(object).tolist()]
    return [{"key": key, **dict(zip(names, values, strict=True))}
            for key, *values in zip(keys, *columns.values(), strict=True)]
