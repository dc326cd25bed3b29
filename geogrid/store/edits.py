"""Edits of draft plans in the store: apply one with its audit row in one transaction, undo the last.

The audit log is the undo stack. An edit's row (action "edit") holds in ``before`` the grids it
touched or removed and the assignment rows of the buildings it moved, exactly as they were, and in
``after`` the same after the edit; undo writes ``before`` back and adds a row (action "undo").
The edit to undo is the newest one not yet undone, found by matching "undo" rows to "edit" rows
newest first, like brackets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from geogrid.db.models import (
    DRAFT,
    PUBLISHED,
    SRID,
    Assignment,
    AuditLog,
    Building,
    Community,
    Grid,
    PlanVersion,
)
from geogrid.partition import constraints, editing
from geogrid.partition.rules import Rules
from geogrid.store import audit
from geogrid.store.plans import Conflict, get_plan, plan_assignments, plan_grids, publish

ASSIGNMENT_KEY = ["building_id", "units", "grid_code", "households", "population"]


class Stale(Conflict):
    """The caller edited from a revision that is no longer the plan's (the API answers 412)."""


class NotDraft(Conflict):
    """Only a draft plan version can be edited (409)."""


class NothingToUndo(Conflict):
    """The plan has no edit left to undo (409)."""


class NothingToRedo(Conflict):
    """The plan has no undone edit to make again (409)."""


class NotReady(Conflict):
    """The plan breaks a hard rule, or a limit without a reason given (409); ``problems`` lists them."""

    def __init__(self, message: str, problems: list[dict[str, Any]], code: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=code, params=params)
        self.problems = problems


@dataclass
class Outcome:
    """An edit or undo as written: the plan version (at its new revision), the plan, what changed."""

    version: PlanVersion
    plan: editing.Plan
    touched: tuple[str, ...]
    removed: tuple[str, ...]
    audit_id: int
    undone: dict[str, Any] | None = None

    def grids(self) -> list[dict[str, Any]]:
        """The touched grids' counts and flags, and whether each breaks a rule, JSON-ready."""
        return [{**{k: v for k, v in r.items() if k != "geometry"},
                 "breaks_a_rule": constraints.breaks_a_rule(r["within_limits"], r["flags"])}
                for r in _records(self.plan.grids, self.touched)]


def load_plan(session: Session, version: PlanVersion) -> editing.Plan:
    """The plan version's grids, assignments, buildings and community, for the editor."""
    community = session.get(Community, version.community_code)
    assigned = select(Assignment.building_id).where(Assignment.plan_version_id == version.id)
    query = select(Building.id, Building.households, Building.population, Building.geom).where(
        or_(Building.community_code == version.community_code, Building.id.in_(assigned))
    )
    rows = session.execute(query.order_by(Building.id)).all()
    buildings = gpd.GeoDataFrame(
        {"building_id": [r.id for r in rows], "households": [r.households for r in rows],
         "population": [r.population for r in rows]},
        geometry=[to_shape(r.geom) for r in rows], crs=SRID,
    )
    return editing.Plan(
        community_code=version.community_code,
        kind=community.kind,
        community=to_shape(community.geom),
        rules=Rules.model_validate(version.rules or {}),
        grids=plan_grids(session, version.id),
        assignments=plan_assignments(session, version.id),
        buildings=buildings,
    )


def apply(
    session: Session,
    plan_id: int,
    expected_revision: int,
    username: str,
    change: Callable[[editing.Plan], editing.Edit],
    op: dict[str, Any],
) -> Outcome:
    """Make one edit of a draft plan version and audit it; raises Stale, NotDraft or EditError.

    The revision moves on first, so the plan's row is locked against a concurrent edit; on any
    error the caller rolls the transaction back and nothing is written.
    """
    version = _bump(session, plan_id, expected_revision)
    before = load_plan(session, version)
    edit = editing.keep_whole(before, change(before))  # no edit leaves ground in no grid or in two
    moved = _changed_buildings(before.assignments, edit.plan.assignments)
    codes = (*edit.touched, *edit.removed)
    _write(session, version.id, codes, _rows(edit.plan.grids, edit.touched), moved, edit.plan.assignments)
    entry = audit.record(
        session, username, "edit", "plan_version", version.id,
        before={"revision": expected_revision, "grids": _records(before.grids, codes),
                "assignments": _assignment_records(before.assignments, moved)},
        after={"revision": version.revision, "op": op, "touched": list(edit.touched), "removed": list(edit.removed),
               "grids": _records(edit.plan.grids, edit.touched),
               "assignments": _assignment_records(edit.plan.assignments, moved)},
    )
    session.flush()
    return Outcome(version, edit.plan, edit.touched, edit.removed, entry.id)


def undo(session: Session, plan_id: int, expected_revision: int, username: str) -> Outcome:
    """Undo the newest edit not yet undone; raises Stale, NotDraft or NothingToUndo."""
    version = _bump(session, plan_id, expected_revision)
    entry = last_edit(session, plan_id)
    if entry is None:
        raise NothingToUndo(f"plan version {plan_id} has no edit to undo", code="edit.nothing_to_undo")
    was, now = entry.before, entry.after
    _check_undoable(session, plan_id, now)
    restored = [g["code"] for g in was["grids"]]
    moved = sorted({a["building_id"] for a in was["assignments"] + now["assignments"]})
    assignments = pd.DataFrame(was["assignments"], columns=ASSIGNMENT_KEY)
    _write(session, plan_id, sorted(set(restored) | set(now["touched"])), [_row(g) for g in was["grids"]],
           moved, assignments)
    undone = {"audit_id": entry.id, "op": now.get("op"), "by": entry.username, "at": entry.at.isoformat()}
    record = audit.record(
        session, username, "undo", "plan_version", plan_id,
        before={"revision": expected_revision, "grids": now["grids"], "assignments": now["assignments"]},
        after={"revision": version.revision, "undoes": entry.id, "touched": restored,
               "removed": sorted(set(now["touched"]) - set(restored)),
               "grids": was["grids"], "assignments": was["assignments"]},
    )
    session.flush()
    plan = load_plan(session, version)
    return Outcome(version, plan, tuple(sorted(restored)), tuple(sorted(set(now["touched"]) - set(restored))),
                   record.id, undone)


def redo(session: Session, plan_id: int, expected_revision: int, username: str) -> Outcome:
    """Make again the edit the newest undo took back (until a new edit is made); raises Stale, NotDraft or
    NothingToRedo. The redo is audited as an edit (``after.redoes``: the undo's id), so it can be undone."""
    version = _bump(session, plan_id, expected_revision)
    entry = last_undo(session, plan_id)
    if entry is None:
        raise NothingToRedo(f"plan version {plan_id} has no undone edit to redo", code="edit.nothing_to_redo")
    edit_row = session.get(AuditLog, entry.after["undoes"])
    was, now = edit_row.before, edit_row.after
    _check_undoable(session, plan_id, {"touched": entry.after["touched"], "removed": entry.after["removed"]})
    moved = sorted({a["building_id"] for a in was["assignments"] + now["assignments"]})
    codes = sorted({g["code"] for g in was["grids"]} | set(now["touched"]))
    assignments = pd.DataFrame(now["assignments"], columns=ASSIGNMENT_KEY)
    _write(session, plan_id, codes, [_row(g) for g in now["grids"]], moved, assignments)
    record = audit.record(
        session, username, "edit", "plan_version", plan_id,
        before={"revision": expected_revision, "grids": was["grids"], "assignments": was["assignments"]},
        after={"revision": version.revision, "op": now.get("op"), "redoes": entry.id, "touched": now["touched"],
               "removed": now["removed"], "grids": now["grids"], "assignments": now["assignments"]},
    )
    session.flush()
    return Outcome(version, load_plan(session, version), tuple(now["touched"]), tuple(now["removed"]), record.id)


def last_undo(session: Session, plan_id: int) -> AuditLog | None:
    """The plan's newest undo not yet redone, if no new edit came after it."""
    query = (
        select(AuditLog.id, AuditLog.action, AuditLog.after)
        .where(AuditLog.object_type == "plan_version", AuditLog.object_id == str(plan_id),
               AuditLog.action.in_(("edit", "undo")))
        .order_by(AuditLog.id.desc())
    )
    pending = 0
    for entry_id, action, after in session.execute(query):
        if action == "edit" and not (after or {}).get("redoes"):
            return None  # a new edit ends what can be redone
        if action == "edit":
            pending += 1
        elif pending:
            pending -= 1
        else:
            return session.get(AuditLog, entry_id)
    return None


def last_edit(session: Session, plan_id: int) -> AuditLog | None:
    """The plan's newest edit that no undo has taken back."""
    query = (
        select(AuditLog.id, AuditLog.action)
        .where(AuditLog.object_type == "plan_version", AuditLog.object_id == str(plan_id),
               AuditLog.action.in_(("edit", "undo")))
        .order_by(AuditLog.id.desc())
    )
    pending = 0
    for entry_id, action in session.execute(query):
        if action == "undo":
            pending += 1
        elif pending:
            pending -= 1
        else:
            return session.get(AuditLog, entry_id)
    return None


# --- publishing --------------------------------------------------------------------------------


def readiness(session: Session, plan_id: int) -> editing.Readiness:
    """The hard rules and limits the plan version breaks (see ``editing.readiness``)."""
    return editing.readiness(load_plan(session, get_plan(session, plan_id)))


def publish_checked(session: Session, plan_id: int, username: str, *, reason: str | None = None,
                    expected_revision: int | None = None) -> PlanVersion:
    """Publish the plan version only if it breaks no hard rule, and a limit only with a reason (kept with the
    version); raises NotReady listing what breaks. A version already published stays as it is."""
    version = get_plan(session, plan_id)
    reason = (reason or "").strip() or None
    if version.status != PUBLISHED:
        found = editing.readiness(load_plan(session, version))
        if found.hard:
            rules = ", ".join(sorted({p["rule"] for p in found.hard}))
            raise NotReady(f"plan version {plan_id} breaks {len(found.hard)} hard rules ({rules}): "
                           "fix them before publishing", found.hard, code="publish.hard_rules",
                           params={"count": len(found.hard), "rules": sorted({p["rule"] for p in found.hard})})
        if found.limits and reason is None:
            rules = ", ".join(sorted({p["rule"] for p in found.limits}))
            raise NotReady(f"plan version {plan_id} breaks {len(found.limits)} limits ({rules}): "
                           'publish it with a reason ({"reason": "..."})', found.limits, code="publish.needs_reason",
                           params={"count": len(found.limits), "rules": sorted({p["rule"] for p in found.limits})})
    return publish(session, plan_id, username, expected_revision=expected_revision, reason=reason)


# --- guards ------------------------------------------------------------------------------------


def _bump(session: Session, plan_id: int, expected_revision: int) -> PlanVersion:
    """The draft at expected_revision, moved to the next revision now (its row stays locked until commit)."""
    version = get_plan(session, plan_id)
    if version.revision != expected_revision:
        raise Stale(f"plan version {plan_id} is at revision {version.revision}, not {expected_revision}: reload it",
                    code="plan.changed", params={"plan": plan_id})
    if version.status != DRAFT:
        raise NotDraft(f"plan version {plan_id} is {version.status}: only a draft can be edited", code="edit.not_draft",
                       params={"plan": plan_id, "status": version.status})
    flag_modified(version, "rules")  # an UPDATE ... WHERE revision = expected: the ORM's optimistic lock
    try:
        session.flush()
    except StaleDataError:
        raise Stale(f"plan version {plan_id} was changed by someone else meanwhile: reload it", code="plan.changed",
                    params={"plan": plan_id}) from None
    return version


def _check_undoable(session: Session, plan_id: int, after: dict[str, Any]) -> None:
    """The grids the edit left must be there still, as the edit left them."""
    codes = set(session.scalars(select(Grid.code).where(Grid.plan_version_id == plan_id)))
    missing = set(after["touched"]) - codes
    back = set(after["removed"]) & codes
    if missing or back:
        raise Conflict(f"plan version {plan_id} no longer matches its last edit (grids {sorted(missing | back)}): "
                       "cannot undo")


# --- rows --------------------------------------------------------------------------------------


def _write(session: Session, plan_id: int, codes: Any, grid_rows: list[dict[str, Any]],
           moved: list[str], assignments: pd.DataFrame) -> None:
    """Replace the plan's grids of codes by grid_rows, and the moved buildings' assignment rows."""
    session.execute(delete(Grid).where(Grid.plan_version_id == plan_id, Grid.code.in_(list(codes))))
    if grid_rows:
        session.execute(insert(Grid), [{"plan_version_id": plan_id, **row} for row in grid_rows])
    if not moved:
        return
    session.execute(delete(Assignment).where(Assignment.plan_version_id == plan_id,
                                             Assignment.building_id.in_(moved)))
    rows = _assignment_records(assignments, moved)
    if rows:
        session.execute(insert(Assignment), [{"plan_version_id": plan_id, **row} for row in rows])


def _changed_buildings(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    both = before[ASSIGNMENT_KEY].merge(after[ASSIGNMENT_KEY], how="outer", indicator=True)
    return sorted(set(both.loc[both["_merge"] != "both", "building_id"]))


def _rows(grids: gpd.GeoDataFrame, codes: Any) -> list[dict[str, Any]]:
    """Grid rows (table columns) of these codes."""
    return [_row(record) for record in _records(grids, codes)]


def _records(grids: gpd.GeoDataFrame, codes: Any) -> list[dict[str, Any]]:
    """These grids as JSON records, geometry as GeoJSON (exact coordinates)."""
    chosen = grids[grids["grid_code"].isin(list(codes))].sort_values("grid_code")
    return [
        audit.jsonable({
            "code": row.grid_code,
            "households": int(row.households),
            "population": int(row.population),
            "building_count": int(row.building_count),
            "compactness": None if pd.isna(row.compactness) else float(row.compactness),
            "within_limits": bool(row.within_limits),
            "flags": json.loads(row.flags) if isinstance(row.flags, str) else list(row.flags),
            "geometry": mapping(row.geometry),
        })
        for row in chosen.itertuples(index=False)
    ]


def _row(record: dict[str, Any]) -> dict[str, Any]:
    """A Grid table row from a JSON record."""
    return {key: value for key, value in record.items() if key != "geometry"} | {
        "geom": from_shape(_multi(shape(record["geometry"])), srid=SRID)
    }


def _assignment_records(assignments: pd.DataFrame, buildings: list[str]) -> list[dict[str, Any]]:
    rows = assignments[assignments["building_id"].isin(buildings)]
    return [
        {"building_id": str(r.building_id), "units": str(r.units or ""),
         "grid_code": None if pd.isna(r.grid_code) else str(r.grid_code),
         "households": int(r.households), "population": int(r.population)}
        for r in rows.itertuples(index=False)
    ]


def _multi(geom: BaseGeometry) -> BaseGeometry:
    return MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom
