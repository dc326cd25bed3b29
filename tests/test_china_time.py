"""China time: times without a zone, dates and Monday weeks, the Python rule and its numpy twin agreeing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from geogrid.incidents import china_time


def test_a_time_without_a_zone_is_china_time() -> None:
    moment = china_time.in_china(datetime(2025, 3, 10, 8, 0))
    assert moment.astimezone(UTC) == datetime(2025, 3, 10, 0, 0, tzinfo=UTC)
    aware = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    assert china_time.in_china(aware) is aware
    assert china_time.maybe_in_china(None) is None


def test_weeks_start_on_monday_in_china() -> None:
    sunday_night_utc = datetime(2025, 3, 9, 15, 59, tzinfo=UTC)  # 23:59 Sunday in China
    monday_utc = datetime(2025, 3, 9, 16, 0, tzinfo=UTC)  # 00:00 Monday in China, still Sunday in UTC
    assert china_time.week_start(sunday_night_utc) == date(2025, 3, 3)
    assert china_time.week_start(monday_utc) == date(2025, 3, 10)
    assert china_time.week_start(datetime(2025, 3, 9, 16, 0)) == date(2025, 3, 10)  # naive: UTC, as stored


def test_numpy_week_index_agrees_with_week_start() -> None:
    rng = np.random.default_rng(7)
    start = datetime(1999, 12, 20, tzinfo=UTC)
    moments = [start + timedelta(seconds=float(s)) for s in rng.uniform(0, 30 * 365 * 86400, 2000)]
    moments += [datetime(2025, 3, 9, 16, 0, tzinfo=UTC) + timedelta(microseconds=d) for d in (-1, 0, 1)]
    index = china_time.week_index(np.array([m.timestamp() for m in moments]))
    assert [china_time.monday_of_week(int(k)) for k in index] == [china_time.week_start(m) for m in moments]


def test_w3c_text_in_china_time() -> None:
    assert china_time.iso_china(datetime(2026, 1, 5, 6, 30, tzinfo=UTC)) == "2026-01-05T14:30:00+08:00"
    assert china_time.iso_china(None) is None
