"""A report as it comes in, where it was located, and the areas a point falls in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from geogrid.errors import InputError

MAX_LENGTHS = {  # characters a report's text fields may hold, whatever the channel (API, hotline file, Open311)
    "description": 4000,
    "address": 400,
    "reporter_name": 200,
    "reporter_contact": 200,
    "external_id": 128,
}
MAX_MEDIA = 20  # photos per report
MAX_MEDIA_URL = 2000
MEDIA_SCHEMES = ("http", "https")
STORED_MEDIA_PREFIX = "/media/"  # a photo kept by geogrid itself, named by its path on this server


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
    attributes: dict[str, Any] = field(default_factory=dict)  # answers already checked (Open311)
    answers: dict[str, Any] | None = None  # answers to the category's questions still to check (the JSON API, pages)
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


def check_report(report: Report) -> None:
    """InputError naming the first field of the report that is too long, holds a NUL character, or (media_urls)
    is not an http(s) URL or one of our own stored paths; the one home of these limits for every channel."""
    for name, limit in MAX_LENGTHS.items():
        _check_text(name, getattr(report, name), limit)
    if len(report.media_urls) > MAX_MEDIA:
        raise InputError(f"media_urls: at most {MAX_MEDIA} photos, not {len(report.media_urls)}",
                         code="report.too_many_photos", params={"count": len(report.media_urls), "limit": MAX_MEDIA})
    for url in report.media_urls:
        check_media_url(url)


def check_media_url(url: str) -> None:
    """InputError unless url is an http(s) URL with a host, or a path under our own stored media."""
    _check_text("media_urls", url, MAX_MEDIA_URL)
    if url.startswith(STORED_MEDIA_PREFIX) and ".." not in url and "//" not in url:
        return
    parts = urlsplit(url)
    if parts.scheme.lower() not in MEDIA_SCHEMES or not parts.netloc or any(c.isspace() for c in url):
        raise InputError(f"media_urls: {url[:80]!r} is not an http or https URL (nor a {STORED_MEDIA_PREFIX} path)",
                         code="report.bad_photo_address")


def _check_text(name: str, value: str | None, limit: int) -> None:
    """InputError if value is longer than limit or holds a NUL character."""
    if value is None:
        return
    if len(value) > limit:
        raise InputError(f"{name} is {len(value)} characters long: at most {limit}", code="input.too_long",
                         params={"field": name, "length": len(value), "limit": limit})
    if "\x00" in value:
        raise InputError(f"{name} holds a NUL character, which no text may contain", code="input.nul_character",
                         params={"field": name})
