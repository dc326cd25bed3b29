"""Plan versions: save a partition as a draft, publish it, list and compare versions."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from geogrid.db.models import ARCHIVED, DRAFT, PUBLISHED, SRID, Assignment, Community, Grid, PlanVersion, utcnow
from geogrid.errors import Coded, InputError
from geogrid.partition import comparing
from geogrid.store import audit
from geogrid.store.following import follow_plan

if TYPE_CHECKING:
    from geogrid.partition.engine import PartitionResult

CHUNK = 500
GRID_COLUMNS = ["grid_code", "households", "population", "building_count", "compactness", "within_limits", "flags"]
ASSIGNMENT_COLUMNS = ["building_id", "units", "grid_code", "households", "population"]


class NotFound(LookupError):
    """No such plan version (the API answers 404)."""


class Conflict(Coded, RuntimeError):
    """The plan version changed since the caller read it, or is in the wrong state (409)."""


# --- saving ------------------------------------------------------------------------------


def save_partition(
    session: Session,
    community_code: str,
    result: PartitionResult,
    rules: Any,
    username: str,
    *,
    note: str | None = None,
    parent_id: int | None = None,
) -> PlanVersion:
    """Store the community's part of a partition result as a new draft plan version."""
    if session.get(Community, community_code) is None:
        raise InputError(f"unknown community {community_code!r}")
    grids = _for_community(result.grids, community_code)
    if grids.empty:
        raise InputError(f"the partition has no grids for community {community_code!r}")
    if parent_id is not None:
        get_plan(session, parent_id)
    plan = PlanVersion(
        community_code=community_code,
        number=_next_number(session, community_code),
        status=DRAFT,
        rules=_rules_json(rules),
        created_by=username,
        parent_id=parent_id,
        note=note,
    )
    session.add(plan)
    session.flush()
    rows = zip(grids.itertuples(index=False), grids.geometry, strict=True)
    _insert(session, Grid, [_grid_row(plan.id, row, geom) for row, geom in rows])
    assignments = _for_community(result.assignments, community_code)
    _insert(session, Assignment, [_assignment_row(plan.id, row) for row in assignments.itertuples(index=False)])
    audit.record(session, username, "create", "plan_version", plan.id, after=summary(plan))
    return plan


def _for_community(frame: pd.DataFrame, community_code: str) -> pd.DataFrame:
    if "community_code" not in frame:
        return frame
    return frame[(frame["community_code"].astype("string") == community_code).fillna(False)]


def _next_number(session: Session, community_code: str) -> int:
    query = select(func.max(PlanVersion.number)).where(PlanVersion.community_code == community_code)
    return (session.scalar(query) or 0) + 1


def _rules_json(rules: Any) -> dict[str, Any]:
    """Rules (a pydantic model, dataclass or mapping) as a JSON object."""
    if rules is None:
        return {}
    if hasattr(rules, "model_dump"):
        rules = rules.model_dump(mode="json")
    elif dataclasses.is_dataclass(rules) and not isinstance(rules, type):
        rules = dataclasses.asdict(rules)
    return audit.jsonable(dict(rules))


def _insert(session: Session, model: type[Grid] | type[Assignment], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])


def _grid_row(plan_id: int, row: Any, geom: BaseGeometry) -> dict[str, Any]:
    return {
        "plan_version_id": plan_id,
        "code": str(row.grid_code),
        "households": _int(row.households),
        "population": _int(row.population),
        "building_count": _int(row.building_count),
        "compactness": None if _missing(row.compactness) else float(row.compactness),
        "within_limits": bool(row.within_limits),
        "flags": _flags(getattr(row, "flags", None)),
        "geom": from_shape(_multipolygon(geom), srid=SRID),
    }


def _assignment_row(plan_id: int, row: Any) -> dict[str, Any]:
    units = getattr(row, "units", "")
    return {
        "plan_version_id": plan_id,
        "building_id": str(row.building_id),
        "grid_code": None if _missing(row.grid_code) else str(row.grid_code),
        "units": "" if _missing(units) else str(units),
        "households": _int(getattr(row, "households", 0)),
        "population": _int(getattr(row, "population", 0)),
    }


def _flags(value: Any) -> list[Any]:
    if _missing(value) or value == "":
        return []
    return json.loads(value) if isinstance(value, str) else audit.jsonable(list(value))


def _multipolygon(geom: BaseGeometry) -> BaseGeometry:
    return MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _int(value: Any) -> int:
    return 0 if _missing(value) else int(value)


# --- reading -----------------------------------------------------------------------------


def get_plan(session: Session, plan_id: int) -> PlanVersion:
    """The plan version, or NotFound."""
    plan = session.get(PlanVersion, plan_id)
    if plan is None:
        raise NotFound(f"no plan version {plan_id}")
    return plan


def list_versions(session: Session, community_code: str) -> Sequence[PlanVersion]:
    """The community's plan versions, newest first."""
    query = select(PlanVersion).where(PlanVersion.community_code == community_code).order_by(PlanVersion.number.desc())
    return session.scalars(query).all()


def published_plan(session: Session, community_code: str) -> PlanVersion | None:
    """The community's published plan version, if any."""
    query = select(PlanVersion).where(PlanVersion.community_code == community_code, PlanVersion.status == PUBLISHED)
    return session.scalar(query)


def plan_grids(session: Session, plan_id: int) -> gpd.GeoDataFrame:
    """The plan version's grids (flags as JSON text), EPSG:4326."""
    grids = session.scalars(select(Grid).where(Grid.plan_version_id == plan_id).order_by(Grid.code)).all()
    records = [
        {
            "grid_code": g.code,
            "households": g.households,
            "population": g.population,
            "building_count": g.building_count,
            "compactness": g.compactness,
            "within_limits": g.within_limits,
            "flags": json.dumps(g.flags, ensure_ascii=False),
        }
        for g in grids
    ]
    geometry = [to_shape(g.geom) for g in grids]
    return gpd.GeoDataFrame(pd.DataFrame(records, columns=GRID_COLUMNS), geometry=geometry, crs=SRID)


def plan_assignments(session: Session, plan_id: int) -> pd.DataFrame:
    """The plan version's building (or unit range) → grid assignments."""
    query = (
        select(*(getattr(Assignment, c) for c in ASSIGNMENT_COLUMNS))
        .where(Assignment.plan_version_id == plan_id)
        .order_by(Assignment.building_id, Assignment.units)
    )
    return pd.DataFrame(session.execute(query).all(), columns=ASSIGNMENT_COLUMNS)


def summary(plan: PlanVersion) -> dict[str, Any]:
    """The plan version's fields, JSON-ready (no grids)."""
    fields = ("id", "community_code", "number", "status", "created_by", "created_at")
    more = ("published_by", "published_at", "parent_id", "revision", "note", "publish_reason")
    return audit.jsonable({name: getattr(plan, name) for name in fields + more})


# --- publishing --------------------------------------------------------------------------


def publish(session: Session, plan_id: int, username: str, *, expected_revision: int | None = None,
            reason: str | None = None) -> PlanVersion:
    """Publish a plan version, archiving the community's previously published one, and place the community's
    cases again in its grids (``geogrid.store.following``), all in the caller's transaction.

    expected_revision (the revision the caller saw, e.g. from an ETag) guards against
    publishing a version that changed meanwhile; a mismatch raises Conflict. reason (why a plan outside
    a count limit is published) is kept with the version.
    """
    plan = get_plan(session, plan_id)
    if expected_revision is not None and plan.revision != expected_revision:
        raise Conflict(f"plan version {plan_id} is at revision {plan.revision}, not {expected_revision}",
                       code="plan.changed", params={"plan": plan_id})
    if plan.status == PUBLISHED:
        return plan
    previous = published_plan(session, plan.community_code)
    if previous is not None:
        _set_status(session, previous, ARCHIVED, username)
        session.flush()  # the one-published-per-community index is checked row by row
    moves = follow_plan(session, plan, username)  # before the plan's row changes: its revision moves once
    plan.published_by, plan.published_at, plan.publish_reason = username, utcnow(), reason
    _set_status(session, plan, PUBLISHED, username, {"reason": reason, "cases_moved": len(moves)})
    session.flush()
    return plan


def copy_to_draft(session: Session, plan_id: int, username: str) -> PlanVersion:
    """A new draft version of the community holding the same grids and assignments as plan_id (e.g. the
    published plan), to edit by hand; its parent is plan_id. Audited."""
    source = get_plan(session, plan_id)
    plan = PlanVersion(community_code=source.community_code, number=_next_number(session, source.community_code),
                       status=DRAFT, rules=dict(source.rules or {}), created_by=username, parent_id=source.id,
                       note=f"copy of version {source.number}")
    session.add(plan)
    session.flush()
    for model, names in ((Grid, ("code", *GRID_COLUMNS[1:], "geom")), (Assignment, tuple(ASSIGNMENT_COLUMNS))):
        columns = [model.__table__.c[name] for name in names]
        rows = select(literal(plan.id), *columns).where(model.__table__.c.plan_version_id == source.id)
        session.execute(insert(model).from_select(["plan_version_id", *names], rows))
    audit.record(session, username, "create", "plan_version", plan.id, after=summary(plan))
    session.flush()
    return plan


def _set_status(session: Session, plan: PlanVersion, status: str, username: str,
                more: dict[str, Any] | None = None) -> None:
    before = summary(plan)
    plan.status = status
    action = "publish" if status == PUBLISHED else status.removesuffix("d")
    audit.record(session, username, action, "plan_version", plan.id, before=before,
                 after={"status": status, **(more or {})})


# --- comparing ---------------------------------------------------------------------------


@dataclass
class PlanComparison:
    """What changed between two plan versions, building by building."""

    plan_a: int
    plan_b: int
    changes: pd.DataFrame  # building_id, units, grid_a, grid_b, households, population
    buildings_changed: int
    households_moved: int
    population_moved: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        changes = self.changes.astype(object).where(self.changes.notna(), None)
        return {
            "plan_a": self.plan_a,
            "plan_b": self.plan_b,
            "buildings_changed": self.buildings_changed,
            "households_moved": self.households_moved,
            "population_moved": self.population_moved,
            "changes": changes.to_dict("records"),
        }


def compare(session: Session, plan_a: int, plan_b: int) -> PlanComparison:
    """Buildings whose grids differ between two versions, each listed once, and the households and residents that
    changed grid (``geogrid.partition.comparing``)."""
    get_plan(session, plan_a), get_plan(session, plan_b)
    found = comparing.changes(plan_assignments(session, plan_a), plan_assignments(session, plan_b))
    return PlanComparison(
        plan_a=plan_a,
        plan_b=plan_b,
        changes=found,
        buildings_changed=len(found),
        households_moved=int(found["households"].sum()),
        population_moved=int(found["population"].sum()),
    )


def published_grids(session: Session, area: str | None = None) -> gpd.GeoDataFrame:
    """Every published grid (inside area, an area code, when given) with grid_code, community_code,
    street_code, district_code, households, population, EPSG:4326, in grid code order."""
    from geogrid.db.models import Community, Street
    from geogrid.store.spatial import Scope

    query = (
        select(Grid.code, PlanVersion.community_code, Community.street_code, Street.district_code,
               Grid.households, Grid.population, Grid.geom)
        .join(PlanVersion, PlanVersion.id == Grid.plan_version_id)
        .join(Community, Community.code == PlanVersion.community_code)
        .join(Street, Street.code == Community.street_code)
        .where(PlanVersion.status == PUBLISHED)
        .order_by(Grid.code)
    )
    if area:
        query = query.where(Scope(area=area).communities(PlanVersion.community_code) | (Grid.code == area)
                            | (Community.street_code == area) | (Street.district_code == area))
    rows = session.execute(query).all()
    columns = ["grid_code", "community_code", "street_code", "district_code", "households", "population"]
    frame = pd.DataFrame([tuple(r)[:-1] for r in rows], columns=columns)
    return gpd.GeoDataFrame(frame, geometry=[to_shape(r.geom) for r in rows], crs=SRID)


def published_grids_at(url: str | None = None) -> gpd.GeoDataFrame:
    """The published grids of every community in the store at url (default: the settings' store)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from geogrid.db.session import session_scope
    from geogrid.store.settings import get_store_settings

    url = url or str(get_store_settings().database_url)
    shown = make_url(url).render_as_string(hide_password=True)
    database = make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:" and not Path(database).exists():
        raise InputError(f"the store {shown} does not exist: set GEOGRID_DATABASE_URL or run `geogrid serve` once")
    try:
        with session_scope(url) as session:
            grids = published_grids(session)
    except SQLAlchemyError as exc:
        reason = " ".join(str(exc.orig if getattr(exc, "orig", None) else exc).split())[:200]
        raise InputError(f"cannot read the published grids from the store {shown} ({reason}): "
                         "is it migrated (`geogrid db upgrade`)?") from None
    if grids.empty:
        raise InputError(f"the store {shown} has no published grids: publish a plan first")
    return grids
