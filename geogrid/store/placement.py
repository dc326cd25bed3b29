"""Where a point falls, by the published grids: the store reads them and keeps their GridIndex per store.

The rules themselves live in geogrid.geo.locate (which grid holds a point, which grids are near one);
this module only reads the published grids (and the communities, for a point in no grid) and caches
the index. The index is keyed on a stamp of the published plan versions: how many there are, the
sums of their ids and revisions, the newest publishing time, and on PostgreSQL the sum of their row
versions (xmin). Publishing (or archiving) a plan version changes that set, and the grids of a plan
version are never changed once it is out of draft, so a layout whose stamp is the store's current
one places exactly as the published grids do. ``layout`` reads the stamp first; ``create_incident``
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

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Connection, Engine, LargeBinary, ScalarSelect, String, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

from geogrid.db.models import PUBLISHED, Community, Grid, PlanVersion, Street
from geogrid.geo.crs import WGS84
from geogrid.geo.locate import GridIndex, first_covering
from geogrid.incidents.reports import Place
from geogrid.store.spatial import near_bbox

KEPT_STORES = 4  # layouts kept per process (one per database URL), least recently built out first
NEAR_METRES = 100.0  # a point in no grid: the grids this near are suggested
SUGGESTIONS = 3  # at most this many
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
    return select(text).select_from(PlanVersion).where(PlanVersion.status == PUBLISHED).scalar_subquery()


STAMP_OF = {dialect: _stamp_of(dialect) for dialect in ("postgresql", "sqlite")}  # a column: a RETURNING may carry it
STAMPS = {dialect: select(column) for dialect, column in STAMP_OF.items()}
PUBLISHED_GRIDS = (
    select(Grid.code, PlanVersion.community_code, Community.street_code, Street.district_code,
           type_coerce(func.ST_AsBinary(Grid.geom), LargeBinary))
    .join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
    .join(Community, Community.code == PlanVersion.community_code)
    .join(Street, Street.code == Community.street_code)
    .where(PlanVersion.status == PUBLISHED)
)
CODES = ("grid_code", "community_code", "street_code", "district_code")


@dataclass(frozen=True)
class GridLayout:
    """The published grids of one store at one stamp, indexed (no raster: it places a point or a few at a time)."""

    stamp: str
    index: GridIndex  # its grids carry grid_code, community_code, street_code and district_code
    codes: list[tuple[str, str]]  # (grid code, community code) per row of the index, for one-point answers

    @classmethod
    def of(cls, stamp: str, rows: list[Any]) -> GridLayout:
        """The layout of rows (grid code, community code, street code, district code, WKB). A grid stored invalid
        (a ring that came to touch itself when projected) is indexed repaired, so it never stops placement."""
        geoms = shapely.from_wkb([bytes(row[4]) for row in rows]) if rows else np.empty(0, dtype=object)
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        frame = gpd.GeoDataFrame({name: [row[k] for row in rows] for k, name in enumerate(CODES)},
                                 geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)
        return cls(stamp, GridIndex(frame, max_cells=0), [(str(row[0]), str(row[1])) for row in rows])

    def grid_at(self, lon: float, lat: float) -> tuple[str, str] | None:
        """(grid code, community code) of the grid holding the point by the boundary rule, None when none does."""
        row = int(self.index.locate((lon,), (lat,))[0])
        return self.codes[row] if row >= 0 else None

    def grids_near(
        self, lon: float, lat: float, within_m: float = NEAR_METRES, limit: int = SUGGESTIONS
    ) -> list[dict[str, Any]]:
        """The grids within within_m metres of the point, nearest first: grid_code, community_code, distance_m."""
        return self.index.suggestions([lon], [lat], within_m, limit, columns=("grid_code", "community_code"))[0]


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
    return kept_at(_store_key(session))


def kept_at(key: str) -> GridLayout | None:
    """The layout last built for the store whose store_key is key, current or not."""
    return _layouts.get(key)


def store_key(bind: Engine | Connection) -> str:
    """The key of a store's kept layout: its URL as text (for code that has the engine but no session)."""
    return str(bind.url)


def _store_key(session: Session) -> str:
    return store_key(session.get_bind())


def grid_at(session: Session, lon: float, lat: float) -> tuple[str, str] | None:
    """(grid code, community code) of the published grid holding the point (see GridLayout.grid_at)."""
    return layout(session).grid_at(lon, lat)


def grids_near(
    session: Session, lon: float, lat: float, within_m: float = NEAR_METRES, limit: int = SUGGESTIONS
) -> list[dict[str, Any]]:
    """The published grids within within_m metres of the point, nearest first (see GridLayout.grids_near)."""
    return layout(session).grids_near(lon, lat, within_m, limit)


def community_at(session: Session, lon: float, lat: float) -> Place:
    """The community (with its street and district) holding the point by the boundary rule, else nothing."""
    query = (
        select(Community.code, Community.street_code, Street.district_code,
               type_coerce(func.ST_AsBinary(Community.geom), LargeBinary))
        .join(Street, Street.code == Community.street_code)
        .where(near_bbox(session, Community, (lon, lat, lon, lat)))
    )
    rows = session.execute(query).all()
    if not rows:
        return Place(None, None, None, None)
    found = int(first_covering(shapely.from_wkb([bytes(r[3]) for r in rows]), [r[0] for r in rows], [lon], [lat])[0])
    return Place(None, *rows[found][:3]) if found >= 0 else Place(None, None, None, None)


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
