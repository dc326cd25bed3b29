"""The assessment (考核) read from the store: the period's cases and their trace steps as columns, scored by the
domain (geogrid.incidents.assessment), with the names of departments, areas and grid workers.

The cases come from the in-memory incident columns the statistics use (geogrid.store.incident_columns), the
trace steps from a snapshot of their own kept the same way (steps are never changed or deleted, so reading
those after the greatest id seen, less an overlap for commits that arrive out of order, keeps it whole; the
overlap's count and greatest id, read from the index, tell whether anything arrived, so an unchanged store
costs one small query). The dispatch episodes (geogrid.incidents.assessment.dispatches) depend on the steps
alone and are kept with their snapshot. read_history_sql reads both straight from the store, and
tests/api/test_assessment.py checks they agree.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Float, Select, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from geogrid.access import GRID_WORKER
from geogrid.db.models import Community, Incident, IncidentEvent, Street, User, utcnow
from geogrid.incidents import assessment
from geogrid.incidents.assessment import Formula
from geogrid.incidents.deadlines import CLOSED
from geogrid.store.per_store import PerStore
from geogrid.incidents.taxonomy import Taxonomy
from geogrid.store.incident_columns import _epoch, columns_of
from geogrid.store.stats import _locate, _Narrowing
from geogrid.store.incidents import Filters, filtered


def _seconds(session: Session, column: str) -> ColumnElement[float]:
    """A timestamp column as seconds since 1970, in the store's SQL."""
    return cast(literal_column(_epoch(session.get_bind().dialect.name, column)), Float)


def _tuples(result: Any) -> list[tuple[Any, ...]]:
    """A result's rows as plain tuples (pandas probes each Row's attributes, which costs more than the query)."""
    return list(map(tuple, result.fetchall()))


def read_history_sql(
    session: Session, *, area: str | None, since: datetime | None, until: datetime | None, category: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cases reported in the period inside area (of category) and the trace steps the assessment reads, as
    the columns geogrid.incidents.assessment.assess takes (times in seconds since 1970)."""
    filters = Filters(area=area, category=[category] if category else [], since=since, until=until)
    columns = [Incident.id, Incident.category, Incident.grid_code, Incident.community_code, Incident.street_code,
               Incident.status, _seconds(session, "incidents.reported_at"),
               _seconds(session, "incidents.deadline_at"), Incident.hours_to_close, Incident.was_overdue,
               Incident.rating, Incident.reopen_count]
    chosen = filtered(select(*columns), filters)
    connection = session.connection()  # Core rows, not ORM ones: a million of them read several times faster
    cases = pd.DataFrame.from_records(_tuples(connection.execute(chosen)), columns=["id", *assessment.CASE_COLUMNS],
                                      coerce_float=True)
    codes = {name: "category" for name in ("category", "grid_code", "community_code", "street_code", "status")}
    cases = cases.astype({"reported_at": float, "deadline_at": float, "hours_to_close": float, "rating": float,
                          "was_overdue": bool, "reopen_count": int} | codes).set_index("id")
    ids = filtered(select(Incident.id), filters).scalar_subquery()
    steps = _steps_query(session).where(IncidentEvent.incident_id.in_(ids))
    return cases, _steps_frame(_tuples(connection.execute(steps)))


OVERLAP_IDS = 10_000  # re-read this many step ids below the greatest seen: commits arrive out of order
RECOUNT_SECONDS = 60.0  # this often, compare the number of steps too, and read them all again if it differs


def _steps_query(session: Session) -> Select:
    """The trace steps the assessment reads, as its columns."""
    return select(
        IncidentEvent.id, IncidentEvent.incident_id, IncidentEvent.action, _seconds(session, "incident_events.at"),
        IncidentEvent.data["department"].as_string(), IncidentEvent.data["rating"].as_integer(),
        IncidentEvent.data["deadline_at"].as_string(),
    ).where(IncidentEvent.action.in_(assessment.EVENT_ACTIONS))


def _steps_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """The steps' rows as the assessment's columns: times in seconds since 1970 (a dispatch's deadline is kept in
    its step's data as ISO 8601 text; NaN where it gave none)."""
    frame = pd.DataFrame.from_records(rows, columns=list(assessment.EVENT_COLUMNS), coerce_float=True)
    given = pd.to_datetime(frame["deadline_at"], utc=True, format="ISO8601")
    frame["deadline_at"] = np.where(given.isna(), np.nan, given.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9)
    return frame.astype({"id": "int64", "incident_id": "int64", "at": float, "rating": float})


class TraceSteps:
    """The snapshot of one store's trace steps (those the assessment reads) and their dispatch episodes, safe to
    share between threads."""

    def __init__(self) -> None:
        self._frame: pd.DataFrame | None = None
        self._counted_at = 0.0
        self._lock = threading.Lock()
        self._dispatches: tuple[pd.DataFrame, pd.DataFrame] | None = None  # (steps frame, its dispatches)

    def dispatches(self, events: pd.DataFrame) -> pd.DataFrame:
        """assessment.dispatches(events), kept while events is this snapshot's frame (computed once per change)."""
        kept = self._dispatches
        if kept is not None and kept[0] is events:
            return kept[1]
        table = assessment.dispatches(events)
        with self._lock:
            if events is self._frame:
                self._dispatches = (events, table)
        return table

    def current(self, session: Session) -> pd.DataFrame:
        """The steps, brought up to date with the store session reads."""
        with self._lock:
            recount = time.monotonic() - self._counted_at > RECOUNT_SECONDS
            if self._frame is None or recount and len(self._frame) != session.scalar(
                    select(func.count()).select_from(_steps_query(session).subquery())):
                self._frame, self._counted_at = self._read(session, None), time.monotonic()
                return self._frame
            ids = self._frame["id"].to_numpy()
            top = int(ids.max()) if len(ids) else 0
            below = top - OVERLAP_IDS
            kept = ids <= below
            tail = session.execute(select(func.count(), func.coalesce(func.max(IncidentEvent.id), 0))
                                   .where(IncidentEvent.id > below, IncidentEvent.action.in_(assessment.EVENT_ACTIONS))
                                   ).one()
            if tuple(tail) != (int(len(ids) - np.count_nonzero(kept)), top):  # something arrived: read the tail
                newer = self._read(session, below)
                if not np.array_equal(newer["id"].to_numpy(), ids[~kept]):
                    self._frame = pd.concat([self._frame[kept], newer], ignore_index=True)
            if recount:
                self._counted_at = time.monotonic()
            return self._frame

    @staticmethod
    def _read(session: Session, after: int | None) -> pd.DataFrame:
        query = _steps_query(session)
        if after is not None:
            query = query.where(IncidentEvent.id > after)
        return _steps_frame(_tuples(session.connection().execute(query.order_by(IncidentEvent.id))))


_STEPS: PerStore[TraceSteps] = PerStore(TraceSteps)  # the trace-step snapshot of each store


def _holder(session: Session) -> TraceSteps:
    """The trace-step snapshot of the store session is bound to."""
    return _STEPS.of(session)


def trace_steps(session: Session) -> pd.DataFrame:
    """The up-to-date trace steps of the store session is bound to."""
    return _holder(session).current(session)


def read_history(
    session: Session, *, area: str | None, since: datetime | None, until: datetime | None, category: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """read_history_sql's answer from the in-memory snapshots, the area narrowed as the statistics narrow it."""
    frame = columns_of(session)
    keep = _Narrowing(_locate(session, area), since, until, category).mask(frame)
    columns = list(assessment.CASE_COLUMNS)  # only these are copied, and all rows without a mask when all are kept
    cases = frame.loc[:, columns] if keep.all() else frame.loc[keep, columns]
    return cases.astype({"reopen_count": int}), trace_steps(session)


def _names(session: Session, level: str, keys: list[str], taxonomy: Taxonomy, lang: str) -> dict[str, str]:
    """The name of each department or area code."""
    if level == "department":
        return {k: taxonomy.departments[k].text(lang) for k in keys if k in taxonomy.departments}
    if level == "grid_worker":
        return {k: k for k in keys}
    model = Street if level == "street" else Community
    return dict(session.execute(select(model.code, model.name).where(model.code.in_(keys))).all())


def _workers(session: Session, grids: list[str]) -> dict[str, str]:
    """The grid workers of each grid (their user names, comma-separated)."""
    query = select(User.scope, User.username).where(User.role == GRID_WORKER, User.active.is_(True))
    if len(grids) <= 500:  # a long IN list costs more to send than reading every grid worker
        query = query.where(User.scope.in_(grids))
    wanted = set(grids)
    found: dict[str, list[str]] = {}
    for scope, username in session.execute(query.order_by(User.username)):
        if scope in wanted:
            found.setdefault(scope, []).append(username)
    return {grid: ", ".join(names) for grid, names in found.items()}


def assessment_rows(
    session: Session,
    level: str,
    formula: Formula,
    taxonomy: Taxonomy,
    *,
    area: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: str | None = None,
    now: datetime | None = None,
    lang: str = "zh",
    history: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> list[dict[str, Any]]:
    """The assessment at level as rows, best score first, each with its rank, key (department, area or grid code)
    and name (and, for grid workers, worker). history: read_history's answer, to assess several levels at once."""
    cases, events = history or read_history(session, area=area, since=since, until=until, category=category)
    level3 = {code: c.deadline_hours[2] for code, c in taxonomy.categories.items()}
    table = _holder(session).dispatches(events)
    figures = assessment.assess(cases, events, level, formula, level3, now or utcnow(), table=table)
    rows = assessment.as_rows(figures)
    keys = [str(r["key"]) for r in rows]
    names = _names(session, level, keys, taxonomy, lang)
    workers = _workers(session, keys) if level == "grid_worker" else {}
    key_name = assessment.KEY_NAMES[level]
    ranked = []
    for rank, (key, row) in enumerate(zip(keys, rows, strict=True), start=1):
        del row["key"]
        named: dict[str, Any] = {"rank": rank if row["score"] is not None else None, key_name: key,
                                 "name": names.get(key, key)}
        if level == "grid_worker":
            named["worker"] = workers.get(key)
        named.update(row)
        ranked.append(named)
    return ranked


def department_case_figures_sql(
    session: Session, *, area: str | None = None, since: datetime | None = None, until: datetime | None = None,
    category: str | None = None,
) -> dict[str, dict[str, float | int | None]]:
    """Per department, by SQL over the cases dispatched to it: cases, closure_rate, satisfaction and reopened (the
    twins of the domain's numpy figures; tests/store/test_assessment_store.py checks they agree)."""
    filters = Filters(area=area, category=[category] if category else [], since=since, until=until)
    ids = filtered(select(Incident.id), filters).scalar_subquery()
    department = IncidentEvent.data["department"].as_string()
    pairs = (select(IncidentEvent.incident_id, department.label("department"))
             .where(IncidentEvent.action == "dispatch", IncidentEvent.incident_id.in_(ids)).distinct().subquery())
    closed = case((Incident.status == CLOSED, 1.0), else_=0.0)
    reopened = case((Incident.reopen_count > 0, 1.0), else_=0.0)
    query = (select(pairs.c.department, func.count(), func.avg(closed), func.avg(cast(Incident.rating, Float)),
                    func.avg(reopened))
             .join(Incident, Incident.id == pairs.c.incident_id).group_by(pairs.c.department))
    return {row[0]: {"cases": int(row[1]), "closure_rate": _float(row[2]), "satisfaction": _float(row[3]),
                     "reopened": _float(row[4])} for row in session.execute(query)}


def _float(value: Any) -> float | None:
    """A SQL number as a float (None stays None)."""
    return None if value is None else float(value)
