"""The incidents' statistics columns held in memory as arrays, brought up to date from the store on each use.

Statistics over a district's million cases must answer in well under a second; scanning the table in
the database takes longer than that on either backend. So each process keeps one column snapshot per
store (about 60 bytes per case) and, before every use, asks the store for what changed (the greatest id
and updated_at, both read from an index): nothing, or rows updated since the snapshot's newest
`updated_at` less a few minutes (every write through geogrid sets it; cases are never deleted). Once a
minute it also compares the row count and reloads everything if a commit slipped past. The store
stays the only truth.
"""

from __future__ import annotations

import threading
import weakref
import time
from datetime import UTC, datetime
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, TextClause, bindparam, func, select, text
from sqlalchemy.orm import Session

from geogrid.db.models import Incident, UTCDateTime

CODES = ("grid_code", "community_code", "street_code", "district_code", "category", "status")
TIMES = ("reported_at", "deadline_at", "updated_at")
NUMBERS = ("hours_to_close", "lon", "lat", "rating", "reopen_count")  # the last two for the assessment
OVERLAP_SECONDS = 60.0  # re-read rows this much older than the newest seen: commits arrive out of order
RECOUNT_SECONDS = 60.0  # this often, compare the row count too (counting a million rows is not free)


def _epoch(dialect: str, column: str) -> str:
    """SQL for a timestamp column as seconds since 1970 (NULL stays NULL)."""
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::float8"
    return f"(julianday({column}) - 2440587.5) * 86400.0"


def _select_sql(dialect: str, since: datetime | None) -> TextClause:
    """The query reading every statistics column (of rows updated after since, through its index)."""
    columns = ["id", *CODES, *(_epoch(dialect, t) for t in TIMES), *NUMBERS, "CASE WHEN was_overdue THEN 1 ELSE 0 END"]
    query = f"SELECT {', '.join(columns)} FROM incidents"
    if since is None:
        return text(query)
    return text(query + " WHERE updated_at > :since").bindparams(bindparam("since", since, type_=UTCDateTime()))


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of _select_sql as a frame indexed by id (codes as categoricals, times as float seconds)."""
    names = ["id", *CODES, *TIMES, *NUMBERS, "was_overdue"]
    frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
    for name in CODES:
        frame[name] = frame[name].astype("category")
    for name in (*TIMES, *NUMBERS):
        frame[name] = frame[name].astype(np.float64)
    frame["was_overdue"] = frame["was_overdue"].astype(bool)
    return frame.set_index("id")


@dataclass
class _Snapshot:
    frame: pd.DataFrame
    newest: float  # the newest updated_at read, seconds since 1970
    top_id: int | None  # the greatest id when read
    counted_at: float  # when the row count was last compared with the store's (time.monotonic)


class IncidentColumns:
    """The column snapshot of one store, safe to share between request threads."""

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None
        self._cells: dict[int, pd.DataFrame] = {}  # resolution -> lon, lat, cell of each case
        self._cells_of: dict[int, pd.DataFrame] = {}  # resolution -> the snapshot those cells were made for
        self._lock = threading.RLock()

    def current(self, session: Session) -> pd.DataFrame:
        """The snapshot, brought up to date with the store session reads."""
        dialect = session.get_bind().dialect.name
        top_id, latest = session.execute(select(  # one max() per subquery: SQLite reads each from its index only so
            select(func.max(Incident.id)).scalar_subquery(), select(func.max(Incident.updated_at)).scalar_subquery()
        )).one()
        newest = latest.timestamp() if latest is not None else 0.0
        with self._lock:
            snap = self._snapshot
            recount = snap is not None and time.monotonic() - snap.counted_at > RECOUNT_SECONDS
            if snap is not None and snap.top_id == top_id and snap.newest >= newest and not recount:
                return snap.frame
            if snap is None:
                frame = _frame(self._rows(session, dialect, None))
            else:
                since = datetime.fromtimestamp(snap.newest - OVERLAP_SECONDS, UTC)
                frame = _merge(snap.frame, _frame(self._rows(session, dialect, since)))
                if recount and len(frame) != session.scalar(select(func.count(Incident.id))):
                    frame = _frame(self._rows(session, dialect, None))  # a commit older than the overlap
            newest_seen = float(np.nanmax(frame["updated_at"])) if len(frame) else 0.0
            self._snapshot = _Snapshot(frame, newest_seen, top_id, time.monotonic() if recount or snap is None
                                       else snap.counted_at)
            return frame

    def cells(self, session: Session, resolution: int) -> pd.Series:
        """Each incident's H3 cell at resolution (0 without a point), indexed like current(): computed once per
        case and resolution (h3 indexes about a million points a second), again only when a point moves."""
        from geogrid.incidents.density import h3_cells

        frame = self.current(session)
        with self._lock:
            cached = self._cells.get(resolution)
            if cached is not None and self._cells_of.get(resolution) is frame:
                return cached["cell"]
            if cached is None:
                cached = pd.DataFrame({"lon": [], "lat": [], "cell": pd.Series([], dtype=np.uint64)})
            known = cached[["lon", "lat"]].reindex(frame.index)
            lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
            stale = ~((known["lon"].to_numpy() == lon) & (known["lat"].to_numpy() == lat))
            located = ~(np.isnan(lon) | np.isnan(lat))
            # the cells reindexed on their own with 0 for new cases: a NaN would turn the column into float64,
            # which cannot hold a 64-bit H3 cell (its low bits lost: an invalid cell)
            cell = cached["cell"].reindex(frame.index, fill_value=0).to_numpy(dtype=np.uint64, copy=True)
            todo = stale & located
            if todo.any():
                cell[todo] = h3_cells(lon[todo], lat[todo], resolution)
            cell[~located] = 0
            self._cells[resolution] = pd.DataFrame({"lon": lon, "lat": lat, "cell": cell}, index=frame.index)
            self._cells_of[resolution] = frame
            return self._cells[resolution]["cell"]

    @staticmethod
    def _rows(session: Session, dialect: str, since: datetime | None) -> list[tuple[Any, ...]]:
        """Raw DB-API rows (no ORM objects: a million of them would take seconds)."""
        result = session.connection().execute(_select_sql(dialect, since))
        try:
            return result.cursor.fetchall()
        finally:
            result.close()


def _merge(frame: pd.DataFrame, changed: pd.DataFrame) -> pd.DataFrame:
    """A copy of frame with the changed rows replaced and the new ones appended (categories united)."""
    frame = frame.copy()
    for name in CODES:
        union = frame[name].cat.categories.union(changed[name].cat.categories)
        frame[name] = frame[name].cat.set_categories(union)
        changed[name] = changed[name].cat.set_categories(union)
    known = changed.index.isin(frame.index)
    if known.any():
        frame.loc[changed.index[known], changed.columns] = changed[known]
    if (~known).any():
        frame = pd.concat([frame, changed[~known]])
    return frame


_BY_ENGINE: weakref.WeakKeyDictionary[Engine, IncidentColumns] = weakref.WeakKeyDictionary()
_BY_ENGINE_LOCK = threading.Lock()


def holder_of(session: Session) -> IncidentColumns:
    """The incident columns of the store session is bound to (one per engine, so per app and process)."""
    bind = session.get_bind()
    engine: Engine = bind if isinstance(bind, Engine) else bind.engine
    with _BY_ENGINE_LOCK:
        holder = _BY_ENGINE.get(engine)
        if holder is None:
            holder = _BY_ENGINE[engine] = IncidentColumns()
        return holder


def columns_of(session: Session) -> pd.DataFrame:
    """The up-to-date incident columns of the store session is bound to."""
    return holder_of(session).current(session)
