"""Filters shared by feature and tile queries: who sees what, and a bbox through the spatial index on both backends."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import Session

from geogrid.db.models import PUBLISHED, SRID, Assignment, Building, Community, Grid, PlanVersion

Bbox = tuple[float, float, float, float]


def box_around(bounds: Sequence[float], metres: float) -> Bbox:
    """A lon/lat box that holds every point within metres of the box bounds (minlon, minlat, maxlon, maxlat):
    a prefilter for the spatial index (a degree is taken as 110 km, a little less than it is)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    dlat = metres / 110_000.0
    widest = min(math.cos(math.radians(min(max(abs(miny), abs(maxy)) + dlat, 90.0))), 1.0)
    dlon = metres / (110_000.0 * max(widest, 0.01))
    return minx - dlon, miny - dlat, maxx + dlon, maxy + dlat


@dataclass(frozen=True)
class Scope:
    """What one user may see: everything under an area code (None: everywhere), or one grid only."""

    area: str | None = None
    grid: str | None = None

    def communities(self, code: ColumnElement[str]) -> ColumnElement[bool]:
        """Communities (by code column) inside the scope; none for a one-grid scope.

        The SQL twin of geogrid.access.covers: 360702-001 covers 360702-001-003 but not 360702-0010; codes
        without dashes (360702 and 360702001003) nest by plain prefix.
        """
        if self.grid is not None:
            return false()
        if self.area is None:
            return true()
        inside = [code == self.area, code.startswith(f"{self.area}-", autoescape=True)]
        if "-" not in self.area:
            inside.append(and_(code.startswith(self.area, autoescape=True), ~code.contains("-")))
        return or_(*inside)

    def grids(self) -> ColumnElement[bool]:
        """Grids (joined to their plan version) inside the scope."""
        if self.grid is not None:
            return Grid.code == self.grid
        return self.communities(PlanVersion.community_code)

    def buildings(self) -> ColumnElement[bool]:
        """Buildings inside the scope; for one grid, those its published plan assigns to it."""
        if self.grid is None:
            return self.communities(Building.community_code)
        held = (
            select(Assignment.building_id)
            .join(PlanVersion, PlanVersion.id == Assignment.plan_version_id)
            .where(PlanVersion.status == PUBLISHED, Assignment.grid_code == self.grid)
        )
        return Building.id.in_(held)


def in_bbox(session: Session, model: type[Grid | Building | Community], bbox: Bbox) -> ColumnElement[bool]:
    """Rows whose geometry intersects bbox (lon/lat), found through the table's spatial index."""
    minx, miny, maxx, maxy = bbox
    if session.get_bind().dialect.name == "postgresql":
        return func.ST_Intersects(model.geom, func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))
    exact = func.ST_Intersects(model.geom, func.BuildMbr(minx, miny, maxx, maxy, SRID)) == 1
    return and_(near_bbox(session, model, bbox), exact)


def near_bbox(session: Session, model: type[Grid | Building | Community], bbox: Bbox) -> ColumnElement[bool]:
    """Rows whose bounding box overlaps bbox (lon/lat): the spatial index alone, for callers that clip anyway.

    PostGIS uses its GiST index for && by itself; SpatiaLite needs its R*Tree (idx_<table>_geom)
    named in the query.
    """
    minx, miny, maxx, maxy = bbox
    if session.get_bind().dialect.name == "postgresql":
        return model.geom.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))
    name = model.__tablename__
    rtree = table(f"idx_{name}_geom", column("pkid"), column("xmin"), column("xmax"), column("ymin"), column("ymax"))
    near = select(rtree.c.pkid).where(rtree.c.xmin <= maxx, rtree.c.xmax >= minx, rtree.c.ymin <= maxy,
                                      rtree.c.ymax >= miny)
    return literal_column(f"{name}.rowid").in_(near)
