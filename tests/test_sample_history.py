"""Sample case histories follow the workflow, are deterministic and end in the week before now."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pandas as pd

from geogrid.incidents import workflow
from geogrid.sample.district import build
from geogrid.sample.history import simulate
from geogrid.incidents.taxonomy import load_taxonomy

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_histories_walk_the_workflow_and_are_deterministic() -> None:
    incidents = build(households=3000, seed=1, incidents=600, cameras=5)["incidents"]
    cases, events = simulate(incidents, load_taxonomy(), NOW, seed=3)
    assert (cases, events) == simulate(incidents, load_taxonomy(), NOW, seed=3)
    by_case = defaultdict(list)
    for event in events:
        by_case[event["position"]].append(event)
    steps = {(s.action, st, lv, s.to_state) for s in workflow.STEPS for st in s.from_states for lv in s.levels}
    for position, trace in by_case.items():
        assert trace[0]["action"] == "report"
        for before, after in zip(trace, trace[1:]):
            assert after["from_status"] == before["to_status"] and after["at"] >= before["at"]
            assert (after["action"], after["from_status"], after["from_level"], after["to_status"]) in steps
        assert cases[position]["status"] == trace[-1]["to_status"]
    closed = [c for c in cases if c["status"] == "closed"]
    assert 0.9 < len(closed) / len(cases) < 1.0
    assert all(c["hours_to_close"] > 0 and c["closed_at"] <= NOW for c in closed)
    newest = max(c["reported_at"] for c in cases)
    assert pd.Timedelta(0) < NOW - newest <= pd.Timedelta(days=7)
    assert any(c["department"] for c in cases) and any(c["was_overdue"] for c in cases)


def test_the_street_assesses_every_department_it_closes_after() -> None:
    incidents = build(households=3000, seed=1, incidents=600, cameras=5)["incidents"]
    cases, events = simulate(incidents, load_taxonomy(), NOW, seed=3)
    dispatched = [e for e in events if e["action"] == "dispatch"]
    assert dispatched and all(e["data"]["department"] for e in dispatched)
    assessed = {e["position"]: e for e in events if e["action"] == "assess"}
    closed_by_street = [i for i, c in enumerate(cases) if c["status"] == "closed" and c["level"] == 3]
    assert closed_by_street and sorted(assessed) == closed_by_street
    assert all(cases[i]["department_rating"] == assessed[i]["data"]["rating"] in (3, 5) for i in closed_by_street)
