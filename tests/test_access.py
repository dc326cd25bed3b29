"""Roles and scopes without a store: who may act where, who sees which incidents and maps, who sees reporters."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from geogrid import access


@dataclass(frozen=True)
class User:
    username: str
    role: str
    scope: str
    department: str | None = None


@dataclass(frozen=True)
class Case:
    department: str | None


@pytest.mark.parametrize(("scope", "code", "inside"), [
    ("360702-001", "360702-001", True),
    ("360702-001", "360702-001-003", True),
    ("360702-001", "360702-0010", False),
    ("360702-001", "360702-002-001", False),
    ("360702", "360702001003", True),  # codes without dashes nest by plain prefix
    ("360702001", "360702002001", False),
])
def test_covers(scope: str, code: str, inside: bool) -> None:
    assert access.covers(scope, code) is inside


def test_admins_act_everywhere_others_inside_their_scope() -> None:
    assert access.acts_on(User("a", access.ADMIN, "360702"), "440101-001")
    assert access.acts_on(User("l", access.LEADER, "360702-001"), "360702-001-002")
    assert not access.acts_on(User("l", access.LEADER, "360702-001"), "360702-002-001")


def test_incident_views_by_role() -> None:
    assert access.incident_view(User("a", access.ADMIN, "360702")) == access.View(everything=True)
    assert access.incident_view(User("w", access.GRID_WORKER, "G1")) == access.View(grid="G1")
    assert access.incident_view(User("s", access.DEPARTMENT_STAFF, "360702", "water")) == access.View(department="water")
    assert access.incident_view(User("s", access.DEPARTMENT_STAFF, "360702")) == access.NOTHING
    for role in (access.PLANNER, access.LEADER):
        assert access.incident_view(User("p", role, "360702-001")) == access.View(area="360702-001")


def test_map_views_by_role() -> None:
    assert not access.sees_maps(User("s", access.DEPARTMENT_STAFF, "360702", "water"))
    assert access.map_view(User("a", access.ADMIN, "360702")) == access.View(everything=True)
    assert access.map_view(User("w", access.GRID_WORKER, "G1")) == access.View(grid="G1")
    assert access.map_view(User("l", access.LEADER, "360702")) == access.View(area="360702")


def test_reporters_are_hidden_from_other_departments_only() -> None:
    staff = User("s", access.DEPARTMENT_STAFF, "360702", "water")
    assert access.sees_reporter(staff, Case("water"))
    assert not access.sees_reporter(staff, Case("roads"))
    assert access.sees_reporter(User("l", access.LEADER, "360702"), Case("roads"))


def test_role_sets_name_known_roles() -> None:
    sets = (access.READERS, access.PLANNERS, access.GRID_VIEWERS, access.HIERARCHY_VIEWERS, access.REPORTERS,
            access.PLACERS, access.STATISTICS_VIEWERS)
    assert all(set(roles) <= set(access.ROLES) for roles in sets)
    assert access.needs_department(access.DEPARTMENT_STAFF) and not access.needs_department(access.LEADER)
