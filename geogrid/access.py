"""Roles and scopes: the one home of the role names, of which roles may do what, and of who sees what.

A user has one role and one scope: an area code (district, street or community) or, for a grid worker,
one grid code. The store turns these decisions into SQL (geogrid.store.incidents.visible_to,
geogrid.store.spatial.Scope); the API turns them into 403s (api.deps.require_role, api.scopes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

ADMIN = "admin"
PLANNER = "planner"
LEADER = "leader"
GRID_WORKER = "grid_worker"
DEPARTMENT_STAFF = "department_staff"
ROLES = (ADMIN, PLANNER, LEADER, GRID_WORKER, DEPARTMENT_STAFF)

# Who may do what (require_role in the API takes these sets).
READERS = (ADMIN, PLANNER, LEADER)  # read grids and plans inside their scope
PLANNERS = (ADMIN, PLANNER)  # change plans and data inside their scope
GRID_VIEWERS = (*READERS, GRID_WORKER)  # read grids (a grid worker their own)
HIERARCHY_VIEWERS = (*READERS, DEPARTMENT_STAFF)  # read the district > street > community tree
REPORTERS = (ADMIN, PLANNER, LEADER, GRID_WORKER)  # file incident reports
PLACERS = (ADMIN, PLANNER, LEADER)  # put an unlocated incident into a grid by hand
STATISTICS_VIEWERS = (ADMIN, LEADER, PLANNER)  # case statistics and density maps of their area
PAGE_ROLES = {  # map page -> roles that open it
    "planner": (ADMIN, PLANNER),
    "worker": (GRID_WORKER,),
    "leader": (ADMIN, LEADER),
    "desk": (ADMIN, LEADER, GRID_WORKER, DEPARTMENT_STAFF),  # the case desk: the cases awaiting the user's step
}
HOME_PAGE = {ADMIN: "planner", PLANNER: "planner", GRID_WORKER: "worker", LEADER: "leader",
             DEPARTMENT_STAFF: "desk"}  # where sign-in lands


class User(Protocol):
    """What the rules read of a signed-in user."""

    username: str
    role: str
    scope: str
    department: str | None


class Case(Protocol):
    """What the rules read of an incident."""

    department: str | None


def covers(scope: str, code: str) -> bool:
    """True when code is the area scope or inside it: 360702-001 covers 360702-001-003, not 360702-0010.

    Codes without dashes (360702 and 360702001003) nest by plain prefix. The SQL twin is
    geogrid.store.spatial.Scope.communities (tests/store/test_access_sql.py).
    """
    if not code.startswith(scope):
        return False
    rest = code[len(scope) :]
    return rest == "" or rest.startswith("-") or "-" not in scope + code


def acts_everywhere(user: User) -> bool:
    """Admins act on every area, whatever their scope says."""
    return user.role == ADMIN


def has_one_grid(user: User) -> bool:
    """A grid worker's scope is one grid (of the published plan), not an area."""
    return user.role == GRID_WORKER


def acts_on(user: User, code: str) -> bool:
    """True when the user may act on the area or grid code: admins everywhere, others inside their scope."""
    return acts_everywhere(user) or covers(user.scope, code)


def needs_department(role: str) -> bool:
    """Department staff belong to a department (the one cases are dispatched to); no other role does."""
    return role == DEPARTMENT_STAFF


@dataclass(frozen=True)
class View:
    """What a user sees: everything, the areas under an area code, one grid, one department's cases, or nothing."""

    everything: bool = False
    area: str | None = None
    grid: str | None = None
    department: str | None = None


NOTHING = View()


def incident_view(user: User) -> View:
    """The incidents user may see: admins all; a grid worker their grid; department staff what was
    dispatched to their department; leaders and planners their area."""
    if user.role == ADMIN:
        return View(everything=True)
    if user.role == GRID_WORKER:
        return View(grid=user.scope)
    if user.role == DEPARTMENT_STAFF:
        return View(department=user.department) if user.department else NOTHING
    return View(area=user.scope)


def sees_maps(user: User) -> bool:
    """Department staff see the cases dispatched to them, not the grid maps; every other role sees maps."""
    return user.role != DEPARTMENT_STAFF


def map_view(user: User) -> View:
    """The grids, buildings and tiles user sees (only for a role that sees_maps): admins everything,
    a grid worker their grid, planners and leaders their area."""
    if user.role == ADMIN:
        return View(everything=True)
    if user.role == GRID_WORKER:
        return View(grid=user.scope)
    return View(area=user.scope)


def default_area(user: User) -> str | None:
    """The area statistics cover when none is asked for: the user's scope (None, everywhere, for admins)."""
    return None if acts_everywhere(user) else user.scope


def sees_reporter(user: User, case: Case) -> bool:
    """Whether user sees who reported the case: everyone but department staff of another department."""
    return user.role != DEPARTMENT_STAFF or case.department == user.department
