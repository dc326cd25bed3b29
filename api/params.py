"""Query parameters and lookups that several routers share: a bbox, a time window, an incident the user may see."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from api.deps import Principal
from api.errors import ForbiddenError
from geogrid.db.models import Incident
from geogrid.errors import InputError
from geogrid.incidents.china_time import maybe_in_china
from geogrid.store import incidents as store


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """minlon,minlat,maxlon,maxlat as four numbers, or InputError naming what was sent."""
    try:
        minx, miny, maxx, maxy = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"bbox must be four numbers minlon,minlat,maxlon,maxlat, not {text!r}") from None
    return minx, miny, maxx, maxy


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
    incident = store.get_incident(session, incident_id)
    if not store.is_visible(session, incident_id, user):
        raise ForbiddenError(f"incident {incident_id} is outside what your role and scope ({user.scope}) may see")
    return incident
