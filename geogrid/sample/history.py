"""A year of sample case histories: each sample incident walked through the workflow, with its trace.

Deterministic for a seed. Most cases close in their grid; some are escalated to the community, a few to
the street and a district department; the newest few are still open. Handling times follow each
category's deadlines, so a realistic share runs late. Times are shifted by whole weeks so that the
newest case falls just before `now` (a demo always shows a current year).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from geogrid.incidents.deadlines import late_now
from geogrid.incidents.taxonomy import Taxonomy

PATHS = {  # path -> (share, the actions after 'report' by (actor, action, level after))
    "grid": (0.80, [("grid", "accept", 1), ("grid", "handle", 1), ("community", "close", 1)]),
    "community": (0.12, [("grid", "accept", 1), ("grid", "escalate", 2), ("community", "accept", 2),
                         ("community", "handle", 2), ("community", "close", 2)]),
    "street": (0.08, [("grid", "accept", 1), ("grid", "escalate", 2), ("community", "escalate", 3),
                      ("street", "dispatch", 3), ("department", "check_in", 3), ("department", "handle", 3),
                      ("street", "close", 3)]),
}
TO_STATE = {"accept": "accepted", "handle": "handled", "close": "closed", "escalate": "escalated",
            "dispatch": "dispatched", "check_in": "checked_in"}
ACTORS = {"grid": "sample-grid-worker", "community": "sample-community", "street": "sample-street",
          "department": "sample-department"}
OPEN_SHARE = 0.03  # the newest cases still open
RATINGS = ([5, 4, 3, 2, 1, None], [0.45, 0.2, 0.07, 0.02, 0.01, 0.25])


def shift_to(reported_at: pd.Series, now: datetime) -> pd.Series:
    """reported_at moved by whole weeks so that its newest value falls in the week before now."""
    newest = reported_at.max()
    weeks = int((pd.Timestamp(now) - newest) // pd.Timedelta(days=7))
    return reported_at + pd.Timedelta(days=7 * weeks)


def simulate(
    incidents: pd.DataFrame, taxonomy: Taxonomy, now: datetime, seed: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """For incidents (category, reported_at tz-aware, in report order): the workflow fields of each case
    and its events (incident position, at, username, action, from/to status and level)."""
    rng = np.random.default_rng(seed)
    reported = shift_to(pd.to_datetime(incidents["reported_at"], utc=True), now)
    order = np.argsort(reported.to_numpy(), kind="stable")
    open_cut = int(len(incidents) * (1 - OPEN_SHARE))
    still_open = np.zeros(len(incidents), dtype=bool)
    still_open[order[open_cut:]] = True
    shares = np.array([p[0] for p in PATHS.values()])
    path_names = rng.choice(list(PATHS), size=len(incidents), p=shares / shares.sum())
    cases, events = [], []
    for i, (category, start, path, open_now) in enumerate(
        zip(incidents["category"], reported, path_names, still_open, strict=True)
    ):
        case, trace = _walk(i, taxonomy.category(category), start.to_pydatetime(), PATHS[path][1], open_now, now, rng)
        cases.append(case)
        events.extend(trace)
    return cases, events


def _walk(
    position: int, category: Any, start: datetime, steps: list[tuple[str, str, int]], open_now: bool,
    now: datetime, rng: np.random.Generator,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One case walked along its steps (stopping partway when it is still open)."""
    if open_now:
        steps = steps[: int(rng.integers(0, len(steps)))]
    status, level, at = "reported", 1, start
    level_since, deadline = start, category.deadline(1, start)
    late = False
    trace = [_event(position, start, "sample-reporter", "report", None, None, "reported", 1)]
    department, department_rating = None, None
    for actor, action, to_level in steps:
        hours = float(rng.lognormal(np.log(category.deadline_hours[level - 1] * 0.3), 0.8)) / max(len(steps) - 1, 1)
        at = min(at + timedelta(hours=hours), now - timedelta(minutes=1))
        late = late or late_now(status, deadline, at)
        if to_level != level:
            level_since, deadline = at, category.deadline(to_level, at)
        if action == "dispatch":
            department = category.department
        if action == "close" and level == 3:  # the street rates the department's work first (一哨一考核)
            department_rating = 3 if late else 5
            trace.append(_event(position, at, ACTORS[actor], "assess", status, level, status, level,
                                {"rating": department_rating, "department": department}))
        data = {"department": department} if action == "dispatch" else {}
        trace.append(_event(position, at, ACTORS[actor], action, status, level, TO_STATE[action], to_level, data))
        status, level = TO_STATE[action], to_level
    closed = status == "closed"
    rating = rng.choice(RATINGS[0], p=RATINGS[1]) if closed else None
    case = {
        "status": status,
        "level": level,
        "department": department,
        "level_since": level_since,
        "deadline_at": deadline,
        "was_overdue": bool(late),
        "closed_at": at if closed else None,
        "hours_to_close": round((at - start).total_seconds() / 3600.0, 3) if closed else None,
        "rating": None if rating is None else int(rating),
        "department_rating": department_rating,
        "reported_at": start,
        "updated_at": at,
    }
    return case, trace


def _event(
    position: int, at: datetime, username: str, action: str, from_status: str | None, from_level: int | None,
    to_status: str, to_level: int, data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One trace row."""
    return {"position": position, "at": at, "username": username, "action": action, "from_status": from_status,
            "from_level": from_level, "to_status": to_status, "to_level": to_level, "note": None, "data": data or {}}
