"""The published grids held in memory per store, to find the grid a point falls in without asking the database.

The layout is keyed on a stamp of the published plan versions: how many there are, the sums of
their ids and revisions, the newest publishing time, and on PostgreSQL the sum of their row
versions (xmin). Publishing (or archiving) a plan version changes that set, and the grids of a plan
version are never changed once it is out of draft, so a layout whose stamp is the store's current
one places exactly as the database would. ``layout`` reads the stamp first; ``create_incident``
places with the kept layout and reads the stamp in its INSERT's RETURNING, placing again if it
moved. The stamp is read from the plan rows themselves, not from the audit log, whose newest id on
PostgreSQL can precede the commit of an older write (ids come from a sequence, transactions commit
in any order).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import LargeBinary, ScalarSelect, String, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

from geogrid.db.models import Grid, PlanVersion

KEPT_STORES = 4  # layouts kept per process (one per database URL), least recently built out first
BUILD_TRIES = 5  # a layout is built again if the published plans changed while it was read


def _stamp_of(dialect: str) -> ScalarSelect[str]:
    """One text that changes whenever the set of published plan versions (or any of their rows) changes:
    count, sum of ids, sum of revisions, newest publishing time, and on PostgreSQL the sum of row versions."""
    newest = "max(plan_versions.published_at)"
    published_at = f"extract(epoch from {newest})::text" if dialect == "postgresql" else newest  # no time zone
    parts = ["count(*)", "coalesce(sum(plan_versions.id), 0)", "coalesce(sum(plan_versions.revision), 0)",
             f"coalesce({published_at}, '')"]
    if dialect == "postgresql":
        parts.append("coalesce(sum(plan_versions.xmin::text::bigint), 0)")
    text = literal_column(" || ':' || ".join(parts), String)
    return select(text).select_from(PlanVersion).where(PlanVersion.status == "published").scalar_subquery()


STAMP_OF = {dialect: _stamp_of(dialect) for dialect in ("postgresql", "sqlite")}  # a column: a RETURNING may carry it
STAMPS = {dialect: select(column) for dialect, column in STAMP_OF.items()}
PUBLISHED_GRIDS = (
    select(Grid.code, PlanVersion.community_code, type_coerce(func.ST_AsBinary(Grid.geom), LargeBinary))
    .join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
    .where(PlanVersion.status == "published")
)


@dataclass(frozen=True)
class GridLayout:
    """The published grids of one store at one stamp: their polygons in an STRtree, codes in code order."""

    stamp: str
    tree: shapely.STRtree
    geoms: NDArray[np.object_]
    grid_codes: list[str]  # sorted: a lower position is a smaller grid code
    community_codes: list[str]

    @classmethod
    def of(cls, stamp: str, rows: list[Any]) -> GridLayout:
        """The layout of rows (grid code, community code, WKB), sorted by grid code."""
        rows = sorted(rows, key=lambda row: row[0])
        geoms = shapely.from_wkb([bytes(row[2]) for row in rows]) if rows else np.empty(0, dtype=object)
        return cls(stamp, shapely.STRtree(geoms), geoms, [row[0] for row in rows], [row[1] for row in rows])

    def grid_at(self, lon: float, lat: float) -> tuple[str, str] | None:
        """(grid code, community code) of the grid whose closed polygon covers the point; on a shared edge
        the smallest grid code; None when no grid covers it."""
        point = shapely.Point(lon, lat)
        near = self.tree.query(point)
        if near.size == 0:
            return None
        covering = near[shapely.covers(self.geoms[near], point)]
        if covering.size == 0:
            return None
        first = int(covering.min())
        return self.grid_codes[first], self.community_codes[first]


_layouts: OrderedDict[str, GridLayout] = OrderedDict()
_building = threading.Lock()


def stamp(session: Session) -> str:
    """The published plan versions' stamp, on the session's connection."""
    connection = session.connection()
    return connection.scalar(STAMPS[connection.dialect.name]) or ""


def layout(session: Session) -> GridLayout:
    """The store's published grids as they are now: the kept layout if its stamp is current, else a new one."""
    current = stamp(session)
    found = kept(session)
    if found is not None and found.stamp == current:
        return found
    with _building:  # one thread builds; the others then find its layout
        found = kept(session)
        if found is None or found.stamp != current:
            found = _build(session, current)
            _keep(_store_key(session), found)
        return found


def kept(session: Session) -> GridLayout | None:
    """The layout last built for the session's store, current or not (compare its stamp)."""
    return _layouts.get(_store_key(session))


def _store_key(session: Session) -> str:
    return str(session.get_bind().url)


def grid_at(session: Session, lon: float, lat: float) -> tuple[str, str] | None:
    """(grid code, community code) of the published grid that covers the point (see GridLayout.grid_at)."""
    return layout(session).grid_at(lon, lat)


def _build(session: Session, current: str) -> GridLayout:
    """Read the published grids; read again if the plans changed meanwhile (a statement sees its own snapshot)."""
    connection = session.connection()
    for _ in range(BUILD_TRIES):
        rows = connection.execute(PUBLISHED_GRIDS).all()
        after = stamp(session)
        if after == current:
            return GridLayout.of(current, rows)
        current = after
    raise RuntimeError(f"the published plans kept changing while their grids were read ({BUILD_TRIES} tries)")


def _keep(key: str, found: GridLayout) -> None:
    _layouts[key] = found
    _layouts.move_to_end(key)
    while len(_layouts) > KEPT_STORES:
        _layouts.popitem(last=False)
