"""Filing a report: whether it names a known category and channel, where it is, and the new case it makes.

The domain decides here, once per report (its point converted from its CRS or its address geocoded, the
category's level-1 deadline, the level); geogrid.store.incidents.create_incident then places the case in
its grid and writes it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from geogrid.errors import InputError
from geogrid.geo.crs import points_to_wgs84
from geogrid.incidents.reports import Location, Report, check_report
from geogrid.incidents.taxonomy import Category, Taxonomy, as_sent, check_answers

FIRST_STATE = "reported"
FIRST_LEVEL = 1


class Geocoder(Protocol):
    """What filing needs of an address geocoder (geogrid.geo.geocode.Gazetteer, or the API's over the store)."""

    def geocode_one(self, text: str) -> Any: ...


@dataclass(frozen=True)
class NewCase:
    """A report decided: the new incident's columns (its areas still to find) and where it was located."""

    columns: dict[str, Any]
    location: Location


def check(report: Report, taxonomy: Taxonomy) -> Category:
    """The report's category, or InputError when it names an unknown category or channel, has a field too
    long, a NUL character or a media URL that is not http(s) (reports.check_report). Its answers to the
    category's questions are checked once it is located (decide, answers_of)."""
    check_report(report)
    category = taxonomy.category(report.category)
    taxonomy.check_channel(report.channel)
    return category


def answers_of(report: Report, category: Category) -> dict[str, Any]:
    """The report's answers to its category's questions: checked when it was asked them (report.answers), else
    the attributes it came with."""
    if report.answers is None:
        return dict(report.attributes)
    return check_answers(category, as_sent(report.answers), label="attributes.{}")


def needs_geocoding(report: Report) -> bool:
    """True for a report located by its address text (no point): the costly kind to locate."""
    return report.x is None


def locate(report: Report, geocoder: Geocoder | None = None) -> Location:
    """Where the report is: its point converted to WGS-84 if it has one, else its address geocoded."""
    if (report.x is None) != (report.y is None):
        raise InputError("a location needs both coordinates (lon and lat, or x and y)",
                         code="report.one_coordinate")
    if report.x is not None:
        lon, lat = points_to_wgs84(report.x, report.y, report.crs)
        return Location(float(lon[0]), float(lat[0]), "point", 1.0)
    if not report.address or not report.address.strip():
        raise InputError("a report needs a location: a point (lon, lat with its crs) or address text",
                         code="report.no_location")
    if geocoder is None:
        return Location(None, None, None, None, note="no buildings with addresses to geocode against")
    found = geocoder.geocode_one(report.address)
    if found.building_id is None and found.lon is None:
        return Location(None, None, None, None, note=f"address not found: {found.reason}")
    return Location(found.lon, found.lat, f"address_{found.method}", round(float(found.confidence), 3),
                    found.building_id, note=f"matched {found.matched_address}")


def decide(report: Report, category: Category, username: str, now: datetime,
           geocoder: Geocoder | None = None) -> NewCase:
    """The new case a checked report makes: located, reported now (or when the report says) at level 1,
    due by the category's level-1 deadline, with its answers to the category's questions (InputError when a
    required one is unanswered or an answer is of the wrong kind)."""
    location = locate(report, geocoder)
    reported_at = report.reported_at or now
    columns = {
        "external_id": report.external_id or None,
        "token": str(uuid.uuid4()),
        "category": report.category,
        "description": report.description or "",
        "channel": report.channel,
        "reporter_name": report.reporter_name,
        "reporter_contact": report.reporter_contact,
        "media_urls": list(report.media_urls),
        "attributes": answers_of(report, category),
        "address": report.address,
        "input_crs": str(report.crs) if report.crs else None,
        "input_x": report.x,
        "input_y": report.y,
        "lon": location.lon,
        "lat": location.lat,
        "located_by": location.located_by,
        "location_confidence": location.confidence,
        "matched_building_id": location.building_id,
        "status": FIRST_STATE,
        "level": FIRST_LEVEL,
        "department": None,
        "reported_at": reported_at,
        "reported_by": username,
        "level_since": reported_at,
        "deadline_at": category.deadline(FIRST_LEVEL, reported_at),
        "was_overdue": False,
        "closed_at": None,
        "hours_to_close": None,
        "rating": None,
        "department_rating": None,
        "reopen_count": 0,
        "updated_at": now,
    }
    return NewCase(columns, location)
