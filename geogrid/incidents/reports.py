"""A report as it comes in, where it was located, and the areas a point falls in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Place:
    """The areas a point falls in: grid (None when in no grid), community, street, district."""

    grid_code: str | None
    community_code: str | None
    street_code: str | None
    district_code: str | None


@dataclass
class Report:
    """A new report as it comes in: what, where (a point with its CRS and/or address text), who."""

    category: str
    channel: str
    description: str = ""
    x: float | None = None
    y: float | None = None
    crs: str | None = None
    address: str | None = None
    reporter_name: str | None = None
    reporter_contact: str | None = None
    media_urls: list[str] = field(default_factory=list)
    external_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    reported_at: datetime | None = None


@dataclass(frozen=True)
class Location:
    """Where a report was placed and how: by its point, its address, or not at all, with a confidence."""

    lon: float | None
    lat: float | None
    located_by: str | None  # point | address_exact | address_fuzzy | address_compound | None
    confidence: float | None
    building_id: str | None = None
    note: str | None = None
