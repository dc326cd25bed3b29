"""The escalation workflow (吹哨报到): states, the transitions between them and who owns each step.

Level 1 is the grid, level 2 the community, level 3 the street with the district department it
dispatches to. A case is reported, accepted and handled in its grid; what the grid cannot solve is
escalated to the community, then to the street, which dispatches it to a department; the department
checks in (报到) and handles it; the community (levels 1-2) or the street (level 3) verifies and closes
it; the street rates the department's work on a case it dispatched (assess, 1-5: 一哨一考核); the reporter
rates it; a closed case can be reopened. Every step is kept as an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from geogrid.access import ADMIN, DEPARTMENT_STAFF, GRID_WORKER, LEADER
from geogrid.errors import Coded, InputError
from geogrid.incidents.deadlines import CLOSED, late_now
from geogrid.incidents.taxonomy import Taxonomy

STATES = ("reported", "accepted", "escalated", "dispatched", "checked_in", "handled", CLOSED)
OPEN_STATES = STATES[:-1]
STATE_LABELS = {
    "reported": ("已上报", "reported"),
    "accepted": ("处置中", "accepted"),
    "escalated": ("已上报上级", "escalated"),
    "dispatched": ("已派遣部门", "dispatched to a department"),
    "checked_in": ("部门已报到", "department checked in"),
    "handled": ("已办结待核查", "handled, awaiting verification"),
    "closed": ("已结案", "closed"),
}
LEVEL_NAMES = {1: "grid", 2: "community", 3: "street"}
LEVEL_NAMES_ZH = {1: "网格", 2: "社区", 3: "街道"}
DUPLICATE = "mark_duplicate"  # staff close a case as a duplicate of another (named in the step's data)
ATTACH = "attach"  # "me too": a report added to an open case's trace instead of a second case; no state change
ATTACHABLE_STATES = OPEN_STATES


class Case(Protocol):
    """What the workflow reads of an incident."""

    status: str
    level: int
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    department: str | None
    reported_by: str | None
    rating: int | None
    department_rating: int | None  # the street's rating of the department's work (assess)


class Actor(Protocol):
    """What the workflow reads of the user acting."""

    username: str
    role: str
    scope: str
    department: str | None

    def covers(self, code: str) -> bool: ...


class NotAllowedNow(Coded, Exception):
    """The action is not possible in the case's current state (HTTP 409)."""


class NotYourStep(Coded, Exception):
    """The user's role or scope does not own this step (HTTP 403): code workflow.not_your_area when a step of
    the action at the case's level belongs to the user's role but the case lies outside the user's area (or went to
    another department), else workflow.not_your_level (another role's step, or a higher or lower level's)."""


Owner = Callable[[Actor, Case], bool]


def grid_owner(user: Actor, case: Case) -> bool:
    """The grid worker of the case's grid."""
    return user.role == GRID_WORKER and case.grid_code is not None and user.scope == case.grid_code


def community_owner(user: Actor, case: Case) -> bool:
    """A leader whose area holds the case's community (the community, its street or district)."""
    return user.role == LEADER and case.community_code is not None and user.covers(case.community_code)


def street_owner(user: Actor, case: Case) -> bool:
    """A leader whose area holds the case's street (the street or its district)."""
    return user.role == LEADER and case.street_code is not None and user.covers(case.street_code)


def department_owner(user: Actor, case: Case) -> bool:
    """Staff of the department the case was dispatched to."""
    return user.role == DEPARTMENT_STAFF and case.department is not None and user.department == case.department


def reporter_or_area_staff(user: Actor, case: Case) -> bool:
    """Whoever reported the case, or a grid worker or leader of its area recording the reporter's rating."""
    return user.username == case.reported_by or grid_owner(user, case) or community_owner(user, case)


OWNER_ROLES: dict[Owner, tuple[str, ...]] = {  # the roles an owner can be (then only its area decides)
    grid_owner: (GRID_WORKER,), community_owner: (LEADER,), street_owner: (LEADER,),
    department_owner: (DEPARTMENT_STAFF,), reporter_or_area_staff: (GRID_WORKER, LEADER),
}


@dataclass(frozen=True)
class Step:
    """One transition: from which states at which levels, to which state and level, owned by whom."""

    action: str
    from_states: tuple[str, ...]
    levels: tuple[int, ...]
    to_state: str
    owner: Owner
    owner_text: str
    level_change: int = 0


STEPS: tuple[Step, ...] = (
    Step("accept", ("reported",), (1,), "accepted", grid_owner, "the grid's grid worker"),
    Step("accept", ("escalated",), (2,), "accepted", community_owner, "the community"),
    Step("handle", ("accepted",), (1,), "handled", grid_owner, "the grid's grid worker"),
    Step("handle", ("accepted",), (2,), "handled", community_owner, "the community"),
    Step("handle", ("checked_in",), (3,), "handled", department_owner, "the department it was dispatched to"),
    Step("escalate", ("reported", "accepted"), (1,), "escalated", grid_owner, "the grid's grid worker", 1),
    Step("escalate", ("escalated", "accepted"), (2,), "escalated", community_owner, "the community", 1),
    Step("dispatch", ("escalated",), (3,), "dispatched", street_owner, "the street"),
    Step("check_in", ("dispatched",), (3,), "checked_in", department_owner, "the department it was dispatched to"),
    Step("close", ("handled",), (1, 2), "closed", community_owner, "the community"),
    Step("close", ("handled",), (3,), "closed", street_owner, "the street"),
    Step("reject", ("handled",), (1, 2), "accepted", community_owner, "the community"),
    Step("reject", ("handled",), (3,), "checked_in", street_owner, "the street"),
    Step("assess", ("handled",), (3,), "handled", street_owner, "the street"),
    Step("assess", (CLOSED,), (3,), CLOSED, street_owner, "the street"),
    Step("rate", ("closed",), (1, 2, 3), "closed", reporter_or_area_staff, "the reporter or the area's staff"),
    Step("reopen", ("closed",), (1, 2, 3), "reported", community_owner, "the community"),
    Step(DUPLICATE, OPEN_STATES, (1, 2), "closed", community_owner, "the community"),
    Step(DUPLICATE, OPEN_STATES, (3,), "closed", street_owner, "the street"),
)
ACTIONS = tuple(dict.fromkeys(step.action for step in STEPS))
OWNER_KEYS: dict[Owner, str] = {grid_owner: "grid", community_owner: "community", street_owner: "street",
                                department_owner: "department", reporter_or_area_staff: "reporter"}


@dataclass(frozen=True)
class Move:
    """The outcome of an allowed action: the new state and level."""

    action: str
    to_state: str
    to_level: int


def plan_move(user: Actor, case: Case, action: str) -> Move:
    """The move action makes, or NotAllowedNow / NotYourStep saying why it cannot happen."""
    if action not in ACTIONS:
        raise NotAllowedNow(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}",
                            code="workflow.unknown_action", params={"action": action})
    if case.grid_code is None and action != "rate":
        raise NotAllowedNow("the case is not located in any grid yet: a planner or leader must place it first",
                            code="workflow.not_placed", params={"action": action})
    steps = [s for s in STEPS if s.action == action and case.status in s.from_states and case.level in s.levels]
    if not steps:
        raise NotAllowedNow(_why_not(case, action), code="workflow.not_allowed_now",
                            params={"action": action, "status": case.status, "level": case.level})
    if action == "rate" and case.rating is not None:
        raise NotAllowedNow("the case has already been rated", code="workflow.already_rated")
    if action == "assess" and case.department_rating is not None:
        raise NotAllowedNow("the department's work on this case has already been assessed",
                            code="workflow.already_assessed")
    if user.role == ADMIN:
        step = steps[0]
    else:
        step = next((s for s in steps if s.owner(user, case)), None)
        if step is None:
            owners = " or ".join(s.owner_text for s in steps)
            area = any(user.role in OWNER_ROLES[s.owner] for s in steps) and _outside(user, case)
            raise NotYourStep(f"'{action}' at level {case.level} ({LEVEL_NAMES[case.level]}) belongs to {owners}",
                              code="workflow.not_your_area" if area else "workflow.not_your_level",
                              params={"action": action, "level": case.level})
    if action == "reopen":
        return Move(action, step.to_state, 1)
    return Move(action, step.to_state, min(case.level + step.level_change, 3))


def department_for(taxonomy: Taxonomy, category: str, named: str | None) -> str:
    """The department a case is dispatched to: the one named, else its category's; InputError if unknown."""
    return taxonomy.check_department(named or taxonomy.category(category).department)


def checked_rating(rating: int | None) -> int:
    """The reporter's rating as a whole number from 1 to 5, or InputError."""
    if rating is None or not 1 <= int(rating) <= 5:
        raise InputError("rating must be a whole number from 1 to 5", code="report.rating_range",
                         params={"low": 1, "high": 5})
    return int(rating)


def checked_deadline(action: str, deadline_at: datetime | None, now: datetime) -> datetime | None:
    """The deadline a dispatch gives the department (None: the case keeps its own), or InputError: only a dispatch
    sets one, and it must be in the future."""
    if deadline_at is None:
        return None
    if action != "dispatch":
        raise InputError(f"deadline_at is only given with dispatch, not with {action}")
    if deadline_at.tzinfo is None:
        raise InputError("deadline_at needs a time zone")
    if deadline_at <= now:
        raise InputError(f"deadline_at {deadline_at.isoformat()} is not in the future")
    return deadline_at


def apply(case: Any, move: Move, deadline: Callable[[int, datetime], datetime], now: datetime) -> None:
    """Make the move on the case (an incident): state and level, with its deadline (deadline(level, start):
    the category's, e.g. Category.deadline), was_overdue, closing time, rating and reopen count kept right.
    A case late when it moves stays overdue (deadlines.late_now)."""
    if late_now(case.status, case.deadline_at, now):
        case.was_overdue = True
    if move.to_level != case.level or move.action == "reopen":
        case.level_since = now
        case.deadline_at = deadline(move.to_level, now)
    if move.to_state == CLOSED and case.status != CLOSED:
        case.closed_at = now
        case.hours_to_close = round((now - case.reported_at).total_seconds() / 3600.0, 3)
    if move.action == "reopen":
        case.closed_at = case.hours_to_close = case.rating = case.department_rating = None
        case.reopen_count += 1
        case.department = None
    case.status, case.level = move.to_state, move.to_level
    case.updated_at = now


def allowed_actions(user: Actor, case: Case) -> list[str]:
    """The actions user may take on case now, in workflow order (only those with a step from the case's state and
    level are tried: plan_move refuses every other one)."""
    status, level = case.status, case.level
    possible = {s.action for s in STEPS if status in s.from_states and level in s.levels}
    allowed = []
    for action in (a for a in ACTIONS if a in possible):
        try:
            plan_move(user, case, action)
        except (NotAllowedNow, NotYourStep):
            continue
        allowed.append(action)
    return allowed


def _outside(user: Actor, case: Case) -> bool:
    """The case lies outside the user's area (for department staff: it went to another department)."""
    if user.role == DEPARTMENT_STAFF:
        return case.department != user.department
    code = case.grid_code or case.community_code or case.street_code
    return code is None or not user.covers(code)


# --- the case desk: which cases await a user's step --------------------------------------------------------

QUEUE_ACTIONS = ("accept", "handle", "escalate", "dispatch", "check_in", "close", "reject", "assess")
"""The steps that move an open case on: a case awaits whoever owns one of them now (not rate, reopen or
mark_duplicate, which a desk offers on a case but which no case waits for)."""
TIER_OWNERS: dict[str, Owner] = {  # a desk's tier -> the owner of the steps that wait for it
    "grid": grid_owner,
    "community": community_owner,
    "street": street_owner,
    "district": street_owner,  # the district has no step of its own: its leaders act as the street over every street
    "department": department_owner,
}


def desk_tier(role: str, area_level: str | None) -> str | None:
    """Whose steps a user's desk shows: a grid worker the grid's, department staff their department's, a leader
    their area's level ("community", "street" or "district", area_level: the level of their scope), an admin
    every step ("admin"); None for a role with no desk (planners)."""
    if role == GRID_WORKER:
        return "grid"
    if role == DEPARTMENT_STAFF:
        return "department"
    if role == ADMIN:
        return "admin"
    if role == LEADER:
        return area_level if area_level in TIER_OWNERS else "district"
    return None


def queue_steps(tier: str | None) -> tuple[Step, ...]:
    """The steps a desk of tier waits on: QUEUE_ACTIONS owned by the tier's owner (every one for admins)."""
    if tier is None:
        return ()
    owner = TIER_OWNERS.get(tier)
    return tuple(s for s in STEPS if s.action in QUEUE_ACTIONS and (tier == "admin" or s.owner is owner))


def queue_states(tier: str | None) -> frozenset[tuple[str, int]]:
    """The (state, level) pairs of open cases a desk of tier may wait on (the store's SQL twin reads them)."""
    return frozenset((state, level) for s in queue_steps(tier) for state in s.from_states if state in OPEN_STATES
                     for level in s.levels)


def awaits(user: Actor, case: Case, tier: str | None) -> bool:
    """Whether the open, located case waits for the user's step at their desk's tier: the user owns a step of
    QUEUE_ACTIONS from the case's state and level (admins every one). The store's twin is
    geogrid.store.desk.awaiting (tests/api/test_desk.py runs both)."""
    if case.status not in OPEN_STATES or case.grid_code is None:
        return False
    return any(case.status in s.from_states and case.level in s.levels and (user.role == ADMIN or s.owner(user, case))
               for s in queue_steps(tier))


def _why_not(case: Case, action: str) -> str:
    """Why action is impossible in the case's state and level."""
    where = f"the case is {case.status} at level {case.level} ({LEVEL_NAMES[case.level]})"
    possible = [s for s in STEPS if s.action == action]
    expected = sorted({f"{st} at level {lv}" for s in possible for st in s.from_states for lv in s.levels})
    hint = {
        "close": "; it must be handled first",
        "handle": "; it must be accepted (or, at level 3, checked in by the department) first",
        "check_in": "; the street must dispatch it to a department first",
        "dispatch": "; only a case escalated to the street is dispatched",
        "escalate": "; level 3 is the top, and a handled or closed case is not escalated",
        "rate": "; only a closed case is rated",
        "assess": "; the street assesses a department's work once the department has handled the case",
        "reopen": "; only a closed case is reopened",
        DUPLICATE: "; a closed case is not marked as a duplicate",
    }.get(action, "")
    return f"cannot {action}: {where}; '{action}' needs {', '.join(expected)}{hint}"
