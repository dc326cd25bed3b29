"""China time (Asia/Shanghai, UTC+8 all year since 1991): reading times without a zone, dates and weeks.

The one home of the offset; the numpy week index beside week_start counts the same weeks
(tests/test_china_time.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np

OFFSET = timedelta(hours=8)  # no daylight saving since 1991, so a fixed offset (as numpy and SQL need)
CHINA = timezone(OFFSET, "CST")
OFFSET_TEXT = datetime(2000, 1, 1, tzinfo=CHINA).isoformat()[-6:]  # "+08:00", as ISO 8601 writes it
MONDAY_ORIGIN = datetime(2000, 1, 3, tzinfo=CHINA)  # a Monday, 00:00 China time: week 0
WEEK_SECONDS = 7 * 24 * 3600.0


def in_china(moment: datetime) -> datetime:
    """moment with China time as its zone when it has none (aware moments are kept as they are)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)


def maybe_in_china(moment: datetime | None) -> datetime | None:
    """in_china, passing None through (an optional query parameter)."""
    return None if moment is None else in_china(moment)


def china_date(moment: datetime) -> date:
    """The date in China at moment (naive moments are UTC, as the store keeps them)."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return utc.astimezone(CHINA).date()


def week_start(moment: datetime) -> date:
    """The Monday, China time, of the week holding moment (naive moments are UTC)."""
    local = china_date(moment)
    return local - timedelta(days=local.weekday())


def week_index(seconds: np.ndarray) -> np.ndarray:
    """week_start as a whole-array twin: the number of the China-time week (0 from MONDAY_ORIGIN) of each
    instant, given as seconds since 1970."""
    return np.floor((np.asarray(seconds, dtype=float) - MONDAY_ORIGIN.timestamp()) / WEEK_SECONDS).astype(np.int64)


def monday_of_week(index: int) -> date:
    """The Monday that starts week number index of week_index."""
    return MONDAY_ORIGIN.date() + timedelta(weeks=int(index))


def iso_china(moment: datetime | None) -> str | None:
    """A stored time in W3C (ISO 8601) form in China time, to the second, e.g. 2026-01-05T14:30:00+08:00."""
    return None if moment is None else moment.astimezone(CHINA).isoformat(timespec="seconds")
