"""The escalation workflow and the taxonomy, without a store: who owns each step, why an action is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from geogrid.incidents import workflow
from geogrid.errors import InputError
from geogrid.incidents.taxonomy import load_taxonomy, read_taxonomy

GRID, COMMUNITY, STREET = "360702-001-001-01", "360702-001-001", "360702-001"


@dataclass
class Case:
    status: str = "reported"
    level: int = 1
    grid_code: str | None = GRID
    community_code: str | None = COMMUNITY
    street_code: str | None = STREET
    department: str | None = None
    reported_by: str | None = "citizen"
    rating: int | None = None
    department_rating: int | None = None


@dataclass(frozen=True)
class User:
    username: str
    role: str
    scope: str
    department: str | None = None

    def covers(self, code: str) -> bool:
        return code == self.scope or code.startswith(self.scope + "-")


WORKER = User("w", "grid_worker", GRID)
OTHER_WORKER = User("w2", "grid_worker", "360702-001-001-02")
COMMUNITY_LEADER = User("c", "leader", COMMUNITY)
STREET_LEADER = User("s", "leader", STREET)
OTHER_STREET = User("s2", "leader", "360702-002")
STAFF = User("d", "department_staff", "360702", "urban_management")
OTHER_STAFF = User("d2", "department_staff", "360702", "justice")
ADMIN = User("a", "admin", "360702")


def run(case: Case, user: User, action: str) -> Case:
    move = workflow.plan_move(user, case, action)
    case.status, case.level = move.to_state, move.to_level
    if action == "dispatch":
        case.department = "urban_management"
    return case


def test_a_case_climbs_every_level_and_each_step_has_its_owner() -> None:
    case = Case()
    for user, action, state, level in [
        (WORKER, "accept", "accepted", 1),
        (WORKER, "escalate", "escalated", 2),
        (COMMUNITY_LEADER, "accept", "accepted", 2),
        (COMMUNITY_LEADER, "escalate", "escalated", 3),
        (STREET_LEADER, "dispatch", "dispatched", 3),
        (STAFF, "check_in", "checked_in", 3),
        (STAFF, "handle", "handled", 3),
        (STREET_LEADER, "reject", "checked_in", 3),
        (STAFF, "handle", "handled", 3),
        (STREET_LEADER, "close", "closed", 3),
        (COMMUNITY_LEADER, "reopen", "reported", 1),
    ]:
        run(case, user, action)
        assert (case.status, case.level) == (state, level), action


@pytest.mark.parametrize(
    ("status", "level", "user", "action", "code"),
    [
        ("reported", 1, OTHER_WORKER, "accept", "workflow.not_your_area"),
        ("reported", 1, COMMUNITY_LEADER, "accept", "workflow.not_your_level"),  # level 1 belongs to the grid
        ("escalated", 2, WORKER, "accept", "workflow.not_your_level"),
        ("escalated", 2, OTHER_STREET, "accept", "workflow.not_your_area"),
        ("escalated", 3, COMMUNITY_LEADER, "dispatch", "workflow.not_your_level"),  # the street's step, not his area's
        ("dispatched", 3, OTHER_STAFF, "check_in", "workflow.not_your_area"),  # another department's case
        ("handled", 1, WORKER, "close", "workflow.not_your_level"),  # the grid does not verify its own work
    ],
)
def test_a_step_is_refused_to_anyone_but_its_owner(status, level, user, action, code) -> None:
    with pytest.raises(workflow.NotYourStep) as refused:
        workflow.plan_move(user, Case(status=status, level=level, department="urban_management"), action)
    assert (refused.value.code, refused.value.params) == (code, {"action": action, "level": level})


@pytest.mark.parametrize(
    ("status", "level", "action", "words"),
    [
        ("reported", 1, "close", "handled first"),
        ("escalated", 3, "escalate", "level 3 is the top"),
        ("reported", 1, "check_in", "dispatch it"),
        ("accepted", 1, "rate", "only a closed case"),
        ("closed", 1, "accept", "cannot accept"),
    ],
)
def test_an_action_impossible_in_the_state_says_why(status, level, action, words) -> None:
    with pytest.raises(workflow.NotAllowedNow, match=words) as refused:
        workflow.plan_move(ADMIN, Case(status=status, level=level), action)
    assert refused.value.code == "workflow.not_allowed_now"
    assert refused.value.params == {"action": action, "status": status, "level": level}


def test_an_unlocated_case_waits_to_be_placed_and_a_case_is_rated_once() -> None:
    with pytest.raises(workflow.NotAllowedNow, match="not located"):
        workflow.plan_move(ADMIN, Case(grid_code=None), "accept")
    with pytest.raises(workflow.NotAllowedNow, match="already been rated"):
        workflow.plan_move(WORKER, Case(status="closed", rating=4), "rate")
    assert workflow.allowed_actions(WORKER, Case()) == ["accept", "escalate"]
    assert workflow.allowed_actions(OTHER_WORKER, Case()) == []


def test_the_taxonomy_gives_deadlines_and_can_be_replaced(tmp_path: Path) -> None:
    taxonomy = load_taxonomy()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fire = taxonomy.category("fire_safety")
    assert (fire.deadline(1, start) - start).total_seconds() == 2 * 3600
    assert set(taxonomy.channels) == {"grid_patrol", "citizen_app", "hotline_12345", "video_patrol"}
    with pytest.raises(InputError, match="unknown category"):
        taxonomy.category("aliens")
    own = tmp_path / "taxonomy.toml"
    own.write_text(
        '[channels]\napp = { zh = "应用", en = "App" }\n[departments]\nwater = { zh = "水务局", en = "Water" }\n'
        '[categories.flooding]\nzh = "内涝"\nen = "Flooding"\ndepartment = "water"\ndeadline_hours = [1, 2, 4]\n',
        encoding="utf-8",
    )
    assert list(read_taxonomy(own).categories) == ["flooding"]
    own.write_text('[channels]\n[departments]\n[categories.x]\nzh="x"\nen="x"\ndepartment="nowhere"\n'
                   'deadline_hours=[1,2,3]\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown departments"):
        read_taxonomy(own)


@dataclass
class Moving:
    """A case with everything workflow.apply changes."""

    status: str = "reported"
    level: int = 1
    reported_at: datetime = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    level_since: datetime = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    deadline_at: datetime | None = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    was_overdue: bool = False
    closed_at: datetime | None = None
    hours_to_close: float | None = None
    rating: int | None = None
    reopen_count: int = 0
    department: str | None = None
    department_rating: int | None = None
    updated_at: datetime | None = None


def test_a_move_keeps_deadlines_lateness_closing_and_reopening_right() -> None:
    category = load_taxonomy().category("city_management")
    case, late = Moving(), datetime(2025, 6, 1, 13, 0, tzinfo=UTC)  # an hour after the level-1 deadline
    workflow.apply(case, workflow.Move("escalate", "escalated", 2), category.deadline, late)
    assert case.was_overdue and case.level == 2 and case.level_since == late
    assert case.deadline_at == category.deadline(2, late)  # a new level, a new deadline
    closing = late + timedelta(hours=2)
    workflow.apply(case, workflow.Move("close", "closed", 2), category.deadline, closing)
    assert case.closed_at == closing and case.hours_to_close == 7.0 and case.was_overdue
    case.rating, case.department = 4, "urban_management"
    workflow.apply(case, workflow.Move("reopen", "reported", 1), category.deadline, closing + timedelta(hours=1))
    assert (case.status, case.level, case.reopen_count) == ("reported", 1, 1)
    assert case.closed_at is None and case.hours_to_close is None and case.rating is None and case.department is None
    assert case.deadline_at == category.deadline(1, closing + timedelta(hours=1))


def test_a_move_on_time_is_not_late_and_the_dispatch_and_rating_rules() -> None:
    taxonomy = load_taxonomy()
    category = taxonomy.category("city_management")
    case = Moving()
    workflow.apply(case, workflow.Move("accept", "accepted", 1), category.deadline, datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    assert not case.was_overdue and case.deadline_at == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # at the deadline: on time
    assert workflow.department_for(taxonomy, "city_management", None) == category.department
    assert workflow.department_for(taxonomy, "city_management", "urban_management") == "urban_management"
    with pytest.raises(InputError):
        workflow.department_for(taxonomy, "city_management", "no_such_department")
    assert workflow.checked_rating(5) == 5
    for bad in (None, 0, 6):
        with pytest.raises(InputError, match="1 to 5"):
            workflow.checked_rating(bad)


def _handled_by_the_department() -> Case:
    return Case(status="handled", level=3, department="urban_management")


def test_the_street_assesses_the_department_once_it_has_handled_the_case() -> None:
    case = _handled_by_the_department()
    assert "assess" in workflow.allowed_actions(STREET_LEADER, case)
    move = workflow.plan_move(STREET_LEADER, case, "assess")
    assert (move.to_state, move.to_level) == ("handled", 3)
    case.status = "closed"
    assert workflow.plan_move(STREET_LEADER, case, "assess").to_state == "closed"
    case.department_rating = 4
    with pytest.raises(workflow.NotAllowedNow, match="already been assessed"):
        workflow.plan_move(STREET_LEADER, case, "assess")
    assert "assess" not in workflow.allowed_actions(STREET_LEADER, case)


@pytest.mark.parametrize("user", [STAFF, COMMUNITY_LEADER, WORKER, OTHER_STREET])
def test_only_the_street_assesses(user: User) -> None:
    with pytest.raises(workflow.NotYourStep, match="belongs to the street"):
        workflow.plan_move(user, _handled_by_the_department(), "assess")
    assert "assess" not in workflow.allowed_actions(user, _handled_by_the_department())


@pytest.mark.parametrize("status", ["dispatched", "checked_in"])
def test_the_department_is_not_assessed_before_it_has_handled_the_case(status: str) -> None:
    case = Case(status=status, level=3, department="urban_management")
    with pytest.raises(workflow.NotAllowedNow, match="once the department has handled"):
        workflow.plan_move(STREET_LEADER, case, "assess")


def test_a_case_closed_below_the_street_is_not_assessed() -> None:
    with pytest.raises(workflow.NotAllowedNow, match="at level 1"):
        workflow.plan_move(STREET_LEADER, Case(status="closed", level=1), "assess")


def test_a_reopened_case_may_be_assessed_again() -> None:
    case = Case(status="closed", level=3, department="urban_management", rating=3, department_rating=2)
    case.reopen_count, case.deadline_at, case.reported_at = 0, None, datetime(2026, 1, 1, tzinfo=UTC)
    move = workflow.plan_move(COMMUNITY_LEADER, case, "reopen")
    workflow.apply(case, move, lambda level, start: start, datetime(2026, 1, 2, tzinfo=UTC))
    assert case.department_rating is None and case.department is None and case.reopen_count == 1
