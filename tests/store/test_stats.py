"""Incident statistics on both backends: per-area counts, closure, overdue, medians, rates, weeks, points."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import Engine, insert

from geogrid.db.models import Community, District, Grid, Incident, PlanVersion, Street
from geogrid.db.session import session_scope
from geogrid.store.stats import area_stats, grid_counts, points, weekly_trend

NOW = datetime(2025, 6, 1, tzinfo=UTC)
MARCH = datetime(2025, 3, 12, 4, 0, tzinfo=UTC)
APRIL = datetime(2025, 4, 15, 4, 0, tzinfo=UTC)
CHINA = timezone(timedelta(hours=8))
C1, C2, C3, C4 = "360702001001", "360702001002", "360702002001", "360702002002"
G11, G12, G21, G31 = f"{C1}-01", f"{C1}-02", f"{C2}-01", f"{C3}-01"


def _square(i: float, j: float) -> WKBElement:
    """A small lon/lat square as a MULTIPOLYGON element."""
    shape = shapely.MultiPolygon([shapely.box(115.9 + i * 0.01, 28.6 + j * 0.01, 115.91 + i * 0.01, 28.61 + j * 0.01)])
    return WKBElement(shapely.to_wkb(shape), srid=4326, extended=False)


def _hierarchy(engine: Engine) -> None:
    """Two districts; 360702 has two streets, four communities, published and draft plans.

    Published grids (households): C1-01 (400), C1-02 (300), C2-01 (500), C3-01 (200); C3 also has a
    draft grid of 999 households that must not count; C4 has no plan. 360703 has one grid of 100.
    """
    districts = [("360702", "章贡区"), ("360703", "南康区")]
    streets = [("360702001", "解放街道", "360702"), ("360702002", "水南镇", "360702"), ("360703001", "蓉江街道", "360703")]
    communities = [(C1, "和平社区", "360702001"), (C2, "红旗社区", "360702001"), (C3, "腊长村", "360702002"),
                   (C4, "新村", "360702002"), ("360703001001", "东山社区", "360703001")]
    plans = [(1, C1, "published"), (2, C2, "published"), (3, C3, "published"), (4, C3, "draft"),
             (5, "360703001001", "published")]
    grids = [(1, G11, 400), (1, G12, 300), (2, G21, 500), (3, G31, 200), (4, f"{C3}-09", 999),
             (5, "360703001001-01", 100)]
    with session_scope(engine) as session:
        session.execute(insert(District), [{"code": c, "name": n, "geom": _square(0, 0)} for c, n in districts])
        session.execute(insert(Street), [{"code": c, "name": n, "district_code": d, "geom": _square(0, 0)}
                                         for c, n, d in streets])
        session.execute(insert(Community), [{"code": c, "name": n, "street_code": s, "geom": _square(0, 0)}
                                            for c, n, s in communities])
        session.execute(insert(PlanVersion), [{"id": i, "community_code": c, "number": i, "status": s,
                                               "rules": {}, "created_by": "test"} for i, c, s in plans])
        session.execute(insert(Grid), [
            {"plan_version_id": p, "code": code, "households": h, "population": 2 * h, "building_count": 1,
             "within_limits": True, "flags": [], "geom": _square(k, 1)}
            for k, (p, code, h) in enumerate(grids)
        ])


def _incident(grid: str | None, status: str = "reported", hours: float | None = None, **extra: Any) -> dict[str, Any]:
    """An incident row in grid (its areas derived from the code), closed after hours when given."""
    community = grid.split("-")[0] if grid else extra.pop("community", None)
    district = extra.pop("district", community[:6] if community else None)
    row = {
        "token": str(uuid.uuid4()), "category": "garbage", "channel": "app", "status": status,
        "reported_at": MARCH, "grid_code": grid, "community_code": community,
        "street_code": community[:9] if community else None, "district_code": district,
        "hours_to_close": hours if status == "closed" else None, "deadline_at": None, "was_overdue": False,
        "lon": 115.9, "lat": 28.6,
    }
    return row | extra


def _add(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert incident rows (defaults for the rest)."""
    with session_scope(engine) as session:
        session.execute(insert(Incident), rows)


def _known_incidents() -> list[dict[str, Any]]:
    """Incidents with known outcomes (see the expected figures in the tests)."""
    return [
        _incident(G11, "closed", 2.0, deadline_at=datetime(2025, 1, 1, tzinfo=UTC)),  # late deadline but closed
        _incident(G11, "closed", 4.0),
        _incident(G11, "closed", 10.0, was_overdue=True),  # was late at some step
        _incident(G11, "accepted", deadline_at=datetime(2025, 5, 1, tzinfo=UTC)),  # open past deadline
        _incident(G11, "reported", deadline_at=datetime(2025, 7, 1, tzinfo=UTC)),  # open, in time
        _incident(G12, "closed", 1.0, category="noise"),
        _incident(G12, "closed", 3.0),
        _incident(G21, "closed", 5.0, reported_at=APRIL),
        _incident(G21, "closed", 7.0, reported_at=APRIL),
        _incident(G21, "closed", 6.0, reported_at=APRIL, category="noise"),
        _incident(G21, "closed", 100.0, reported_at=APRIL),
        _incident(None, district="360702", lon=116.5),  # just outside every grid: its district still counts it
        _incident("360703001001-01", "closed", 8.0),
    ]


@pytest.fixture
def store(engine: Engine) -> Engine:
    """The hierarchy with the known incidents."""
    _hierarchy(engine)
    _add(engine, _known_incidents())
    return engine


def _by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in rows}


def _stats(engine: Engine, level: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    with session_scope(engine) as session:
        return _by_code(area_stats(session, level, now=NOW, **kwargs))


# --- per area ----------------------------------------------------------------------------------------


def test_community_level_counts_closure_overdue_median_and_rates(store: Engine) -> None:
    rows = _stats(store, "community", area="360702")
    assert list(rows) == [C1, C2, C3, C4]  # zero-incident and plan-less communities are present, in code order
    one = rows[C1]
    assert (one["name"], one["count"], one["closed"], one["overdue"]) == ("和平社区", 7, 5, 2)
    assert one["closure_rate"] == pytest.approx(5 / 7)
    assert one["median_hours_to_close"] == pytest.approx(3.0)  # odd: 1 2 [3] 4 10
    assert one["households"] == 700
    assert one["per_1000_households"] == pytest.approx(10.0)
    two = rows[C2]
    assert (two["count"], two["closed"], two["overdue"], two["households"]) == (4, 4, 0, 500)
    assert two["closure_rate"] == pytest.approx(1.0)
    assert two["median_hours_to_close"] == pytest.approx(6.5)  # even: 5 [6 7] 100
    assert two["per_1000_households"] == pytest.approx(8.0)
    empty = rows[C3]  # a published grid but no incidents; its draft grid's 999 households do not count
    assert (empty["count"], empty["closed"], empty["overdue"], empty["households"]) == (0, 0, 0, 200)
    assert empty["closure_rate"] is None and empty["median_hours_to_close"] is None
    assert empty["per_1000_households"] == pytest.approx(0.0)
    assert rows[C4]["households"] == 0 and rows[C4]["per_1000_households"] is None


def test_grid_level_has_every_published_grid_inside_the_area(store: Engine) -> None:
    rows = _stats(store, "grid", area="360702")
    assert list(rows) == [G11, G12, G21, G31]  # not the draft grid, not the other district's
    assert rows[G11]["name"] == G11
    assert rows[G11]["median_hours_to_close"] == pytest.approx(4.0)  # 2 [4] 10
    assert rows[G12]["median_hours_to_close"] == pytest.approx(2.0)  # [1 3]
    assert (rows[G31]["count"], rows[G31]["households"]) == (0, 200)
    assert list(_stats(store, "grid", area="360702002")) == [G31]


def test_street_and_district_roll_up(store: Engine) -> None:
    streets = _stats(store, "street", area="360702")
    assert list(streets) == ["360702001", "360702002"]
    first = streets["360702001"]
    assert (first["name"], first["count"], first["closed"], first["overdue"], first["households"]) == (
        "解放街道", 11, 9, 2, 1200)
    assert first["median_hours_to_close"] == pytest.approx(5.0)  # 1 2 3 4 [5] 6 7 10 100
    assert streets["360702002"]["count"] == 0 and streets["360702002"]["households"] == 200
    districts = _stats(store, "district")
    assert list(districts) == ["360702", "360703"]
    home = districts["360702"]
    assert (home["name"], home["count"], home["closed"], home["households"]) == ("章贡区", 12, 9, 1400)
    assert home["per_1000_households"] == pytest.approx(12 * 1000 / 1400)
    assert districts["360703"]["median_hours_to_close"] == pytest.approx(8.0)


def test_a_level_above_the_area_gives_the_part_inside_it(store: Engine) -> None:
    street = _stats(store, "street", area=C1)
    assert list(street) == ["360702001"]
    assert (street["360702001"]["count"], street["360702001"]["households"]) == (7, 700)
    district = _stats(store, "district", area=G12)
    assert (district["360702"]["count"], district["360702"]["households"]) == (2, 300)


def test_category_and_time_window_filters(store: Engine) -> None:
    noise = _stats(store, "community", area="360702", category="noise")
    assert [noise[c]["count"] for c in (C1, C2, C3, C4)] == [1, 1, 0, 0]
    both = _stats(store, "community", area="360702", category=["noise", "garbage"])
    assert both[C1]["count"] == 7
    april = _stats(store, "community", area="360702", since=datetime(2025, 4, 1, tzinfo=UTC))
    assert (april[C1]["count"], april[C2]["count"]) == (0, 4)
    march = _stats(store, "community", area="360702", until=datetime(2025, 4, 1, tzinfo=UTC))
    assert (march[C1]["count"], march[C2]["count"]) == (7, 0)


def test_overdue_follows_now(store: Engine) -> None:
    with session_scope(store) as session:
        early = _by_code(area_stats(session, "grid", area=C1, now=datetime(2025, 4, 1, tzinfo=UTC)))
    assert early[G11]["overdue"] == 1  # the open case's deadline (May) has not passed yet
    assert (early[G11]["overdue_open"], early[G11]["closed_late"]) == (0, 1)


def test_overdue_splits_into_open_and_overdue_and_closed_late(store: Engine) -> None:
    grids = _stats(store, "grid", area="360702")
    assert (grids[G11]["overdue"], grids[G11]["overdue_open"], grids[G11]["closed_late"]) == (2, 1, 1)
    streets = _stats(store, "street", area="360702")
    assert (streets["360702001"]["overdue_open"], streets["360702001"]["closed_late"]) == (1, 1)
    for row in (grids | streets).values():
        assert row["overdue"] == row["overdue_open"] + row["closed_late"]



def test_one_grid_as_the_area_counts_only_its_cases(store: Engine) -> None:
    rows = _stats(store, "community", area=G12)
    assert rows[C1]["count"] == 2 and rows[C1]["households"] == 300


def test_the_snapshot_follows_new_and_changed_cases(store: Engine) -> None:
    from sqlalchemy import update

    assert _stats(store, "grid", area=C1)[G12]["count"] == 2
    _add(store, [_incident(G12, "reported")])
    assert _stats(store, "grid", area=C1)[G12]["count"] == 3
    with session_scope(store) as session:
        session.execute(update(Incident).where(Incident.grid_code == G12, Incident.status == "reported")
                        .values(status="closed", hours_to_close=9.0, updated_at=datetime.now(UTC)))
    assert _stats(store, "grid", area=C1)[G12]["closed"] == 3


def test_unknown_level_is_refused(store: Engine) -> None:
    with session_scope(store) as session, pytest.raises(ValueError, match="unknown level"):
        area_stats(session, "province")


# --- weeks, grid counts, points -------------------------------------------------------------------------


def test_weeks_start_on_monday_china_time(engine: Engine) -> None:
    _hierarchy(engine)
    sunday_night = datetime(2025, 3, 9, 23, 30, tzinfo=CHINA)  # 15:30 UTC on Sunday
    monday_early = datetime(2025, 3, 10, 0, 30, tzinfo=CHINA)  # 16:30 UTC, still Sunday in UTC
    _add(engine, [
        _incident(G11, "closed", 1.0, reported_at=sunday_night),
        _incident(G11, reported_at=monday_early),
        _incident(G12, "closed", 2.0, reported_at=monday_early + timedelta(days=6, hours=23)),  # Sunday 23:30
        _incident(G21, reported_at=datetime(2025, 3, 24, 1, tzinfo=CHINA)),  # a week later, one empty week between
        _incident("360703001001-01", reported_at=monday_early),  # other district
    ])
    with session_scope(engine) as session:
        weeks = weekly_trend(session, area="360702")
        windowed = weekly_trend(session, area="360702", since=datetime(2025, 3, 10, tzinfo=CHINA),
                                until=datetime(2025, 3, 17, tzinfo=CHINA))
    assert weeks == [
        {"week_start": date(2025, 3, 3), "count": 1, "closed": 1},
        {"week_start": date(2025, 3, 10), "count": 2, "closed": 1},
        {"week_start": date(2025, 3, 17), "count": 0, "closed": 0},
        {"week_start": date(2025, 3, 24), "count": 1, "closed": 0},
    ]
    assert windowed == [{"week_start": date(2025, 3, 10), "count": 2, "closed": 1}]


def test_weekly_trend_filters_category(store: Engine) -> None:
    with session_scope(store) as session:
        weeks = weekly_trend(session, area="360702", category="noise")
    assert [(w["week_start"], w["count"]) for w in weeks if w["count"]] == [(date(2025, 3, 10), 1),
                                                                             (date(2025, 4, 14), 1)]


def test_grid_counts_and_points(store: Engine) -> None:
    with session_scope(store) as session:
        counts = grid_counts(session, area="360702")
        april = grid_counts(session, area="360702", since=datetime(2025, 4, 1, tzinfo=UTC))
        lon, lat = points(session, area="360702")
        noise_lon, _ = points(session, category="noise")
        nothing = points(session, area="999999")
    assert counts == {G11: 5, G12: 2, G21: 4}
    assert april == {G21: 4}
    assert lon.dtype == lat.dtype == float and lon.size == lat.size == 12
    assert sorted(set(lon.tolist())) == [115.9, 116.5]
    assert noise_lon.size == 2
    assert nothing[0].size == 0 and nothing[1].size == 0


def test_a_code_the_hierarchy_does_not_know_nests_by_prefix(store: Engine) -> None:
    rows = _stats(store, "district", area="3607")
    assert [(code, row["count"]) for code, row in rows.items()] == [("360702", 12), ("360703", 1)]
    assert _stats(store, "community", area="999") == {}


def test_cells_are_the_h3_cells_of_the_counted_points(store: Engine) -> None:
    from geogrid.incidents.density import h3_cells
    from geogrid.store.stats import cells

    with session_scope(store) as session:
        lon, lat = points(session, area=C1)
        assert sorted(cells(session, 9, area=C1).tolist()) == sorted(h3_cells(lon, lat, 9).tolist())
        assert len(cells(session, 9, area="360702")) == len(points(session, area="360702")[0])
