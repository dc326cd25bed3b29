"""Query parameters and lookups routers share, parsed once: a bbox, a page, a time window, a visible incident.

Bad values answer 400 naming the parameter and what it must be (OGC API - Features asks for 400).
"""

# No "from __future__ import annotations": FastAPI reads the annotations paging() makes at run time as objects.
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from api.deps import Principal, check_area
from geogrid import access
from api.errors import BadRequestError, ForbiddenError
from api.ids import MAX_OFFSET
from geogrid.db.models import Incident
from geogrid.incidents.china_time import maybe_in_china
from geogrid.store import incidents as incident_store
from geogrid.store.spatial import Bbox

BBOX_DOC = "minLon,minLat,maxLon,maxLat in degrees (WGS 84); six numbers with heights are accepted"


@dataclass(frozen=True)
class Page:
    """Which slice of a result to answer: at most limit rows after the first offset."""

    limit: int
    offset: int


def parse_bbox(value: str | None) -> Bbox | None:
    """minLon,minLat,maxLon,maxLat (or minLon,minLat,minH,maxLon,maxLat,maxH) as a Bbox; None when absent."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise BadRequestError(f"bbox must be four numbers minLon,minLat,maxLon,maxLat, not {value!r}") from None
    if len(numbers) == 6:  # with heights: minLon,minLat,minH,maxLon,maxLat,maxH
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise BadRequestError(f"bbox must be four numbers minLon,minLat,maxLon,maxLat, not {value!r}")
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadRequestError(f"bbox {value!r} is not longitude/latitude in degrees (WGS 84) with minLat <= maxLat")
    if minx > maxx:
        raise BadRequestError(f"bbox {value!r} crosses the antimeridian, which is not supported")
    return minx, miny, maxx, maxy


def whole_number(value: str | None, name: str, default: int, low: int, high: int | None) -> int:
    """The parameter as a whole number from low to high (no upper bound: None); default when absent."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequestError(f"{name} must be a whole number, not {value!r}") from None
    if number < low:
        raise BadRequestError(f"{name} must be at least {low}")
    if high is not None and number > high:
        raise BadRequestError(f"{name} must be at most {high}")
    return number


async def bbox_param(bbox: Annotated[str | None, Query(description=BBOX_DOC)] = None) -> Bbox | None:
    """The request's bbox parameter (async: no I/O, so no worker thread)."""
    return parse_bbox(bbox)


BboxParam = Annotated[Bbox | None, Depends(bbox_param)]


def paging(default: int, maximum: int, *, cap: bool = False) -> Callable[..., Awaitable[Page]]:
    """A dependency reading limit (1 to maximum, default default) and offset (0 and up, default 0); with cap, a
    limit above maximum is served as maximum (as OGC API - Features clients expect) instead of refused."""

    async def page(
        limit: Annotated[str | None, Query(description=f"1 to {maximum:,} (default {default})")] = None,
        offset: Annotated[str | None, Query(description="rows to skip (default 0)")] = None,
    ) -> Page:
        size = whole_number(limit, "limit", default, 1, None if cap else maximum)
        return Page(min(size, maximum), whole_number(offset, "offset", 0, 0, MAX_OFFSET))

    return page


class TimeWindow:
    """The since/until query parameters, read once: a time without a zone is China time."""

    def __init__(
        self,
        since: datetime | None = Query(None, description="From (inclusive), e.g. 2026-01-01 (China time unless a zone is given)"),
        until: datetime | None = Query(None, description="To (exclusive)"),
    ) -> None:
        self.since, self.until = maybe_in_china(since), maybe_in_china(until)


TimeWindowDep = Annotated[TimeWindow, Depends()]


def visible_incident(session: Session, incident_id: int, user: Principal) -> Incident:
    """The incident if user may see it; 404 if there is none, 403 if it is outside their view."""
    incident = incident_store.get_incident(session, incident_id)
    if not incident_store.is_visible(session, incident_id, user):
        raise ForbiddenError(f"incident {incident_id} is outside what your role and scope ({user.scope}) may see",
                             code="workflow.case_not_yours", params={"case": incident_id})
    return incident


class Window:
    """The filters every statistic takes: an area, a time window (China time unless a zone is given), a category."""

    def __init__(
        self,
        time: TimeWindowDep,
        area: str | None = Query(None, description="District, street, community or grid code (default: your scope)"),
        category: str | None = Query(None, description="A category code of GET /api/v1/taxonomy"),
    ) -> None:
        self.area, self.since, self.until, self.category = area, time.since, time.until, category

    def scoped(self, user: Principal) -> str | None:
        """The area asked for, checked against the user's scope (their scope when none is asked for)."""
        if self.area:
            check_area(user, self.area, "area")
            return self.area
        return access.default_area(user)

    def args(self, user: Principal) -> dict[str, Any]:
        """Keyword arguments for the store's statistics: the area inside the user's scope is what they may see
        (the viewers are admins, leaders and planners, who see their whole area)."""
        return {"area": self.scoped(user), "since": self.since, "until": self.until, "category": self.category}


WindowDep = Annotated[Window, Depends()]
