"""Edits in the store, on SpatiaLite and PostGIS: written with their audit row, guarded by revision, undone exactly."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import Engine, select

from geogrid.partition import editing
from geogrid.db.models import AuditLog
from geogrid.db.session import session_scope
from geogrid.store import edits
from geogrid.store.plans import (
    get_plan,
    plan_assignments,
    plan_grids,
    publish,
)
from tests import edit_data


@pytest.fixture
def plan_id(engine: Engine) -> int:
    """A draft plan of the synthetic community, in the store."""
    with session_scope(engine) as session:
        return edit_data.store_draft(session)


def state(engine: Engine, plan_id: int) -> tuple[list, list, int]:
    """The plan's grids (as exact WKB) and assignments, and its revision."""
    with session_scope(engine) as session:
        grids = plan_grids(session, plan_id)
        rows = [(*r[:-1], shapely.to_wkb(r[-1])) for r in grids.itertuples(index=False)]
        return rows, plan_assignments(session, plan_id).values.tolist(), get_plan(session, plan_id).revision


def edit(engine: Engine, plan_id: int, revision: int, change, op: dict) -> edits.Outcome:
    with session_scope(engine) as session:
        return edits.apply(session, plan_id, revision, "planner", change, op)


def test_edit_then_undo_restores_the_exact_state(engine: Engine, plan_id: int) -> None:
    grids, assignments, revision = state(engine, plan_id)
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    building = edit_data.border_building(p, a, b)
    outcome = edit(engine, plan_id, revision, lambda plan: editing.move_building(plan, building, b),
                   {"op": "move_building", "building_id": building, "to_grid": b})
    assert outcome.version.revision == revision + 1
    assert set(outcome.touched) == {a, b}
    grids_after, assignments_after, revision_after = state(engine, plan_id)
    assert revision_after == revision + 1 and grids_after != grids and assignments_after != assignments
    code = edit_data.interior_grid(p)
    line = shapely.LineString([(shapely.centroid(p.geometry_of(code)).x, p.community.bounds[1]),
                               (shapely.centroid(p.geometry_of(code)).x, p.community.bounds[3])])
    line = shapely.intersection(line, shapely.buffer(p.geometry_of(code), 1e-4))
    edit(engine, plan_id, revision + 1, lambda plan: editing.split(plan, code, line), {"op": "split"})
    with session_scope(engine) as session:
        second = edits.undo(session, plan_id, revision + 2, "planner")
    assert second.undone["op"] == {"op": "split"}
    assert state(engine, plan_id) == (grids_after, assignments_after, revision + 3)
    with session_scope(engine) as session:
        first = edits.undo(session, plan_id, revision + 3, "planner")
    assert first.undone["op"]["building_id"] == building
    assert state(engine, plan_id) == (grids, assignments, revision + 4)
    with session_scope(engine) as session, pytest.raises(edits.NothingToUndo):
        edits.undo(session, plan_id, revision + 4, "planner")
    with session_scope(engine) as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(plan_id))
                                  .order_by(AuditLog.id)).all()
        last = session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert actions[-4:] == ["edit", "edit", "undo", "undo"]
    assert last.username == "planner" and last.after["undoes"] and last.before["grids"]


def test_a_stale_revision_changes_nothing(engine: Engine, plan_id: int) -> None:
    before = state(engine, plan_id)
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    with pytest.raises(edits.Stale, match="revision"):
        edit(engine, plan_id, before[2] - 1, lambda plan: editing.merge(plan, a, b), {"op": "merge"})
    assert state(engine, plan_id) == before


def test_a_failed_edit_rolls_back_the_revision(engine: Engine, plan_id: int) -> None:
    before = state(engine, plan_id)
    with pytest.raises(editing.EditError):
        edit(engine, plan_id, before[2], lambda plan: editing.merge(plan, "X", "Y"), {"op": "merge"})
    assert state(engine, plan_id) == before


def test_only_drafts_are_edited(engine: Engine, plan_id: int) -> None:
    with session_scope(engine) as session:
        revision = publish(session, plan_id, "leader").revision
    p = edit_data.plan()
    a, b, _ = edit_data.neighbours(p)[0]
    with pytest.raises(edits.NotDraft, match="published"):
        edit(engine, plan_id, revision, lambda plan: editing.merge(plan, a, b), {"op": "merge"})
