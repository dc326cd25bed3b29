"""GET /api/v1/hierarchy: the tree, its roll-ups against direct sums, and scope filtering."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geogrid.db.models import Grid, PlanVersion

from .conftest import District


def tree(client: TestClient, auth, username: str) -> dict:
    answer = client.get("/api/v1/hierarchy", headers=auth(username))
    assert answer.status_code == 200, answer.text
    return answer.json()


def direct_sums(client: TestClient) -> dict[str, tuple[int, int, int, int]]:
    """Per community, straight from the grids table: households, population, grids, grids breaking a rule."""
    with client.app.state.sessions() as session:
        return _sums(session)


def _sums(session: Session) -> dict[str, tuple[int, int, int, int]]:
    query = (
        select(PlanVersion.community_code, Grid.households, Grid.population, Grid.within_limits, Grid.flags)
        .join(Grid, Grid.plan_version_id == PlanVersion.id)
        .where(PlanVersion.status == "published")
    )
    sums: dict[str, list[int]] = {}
    for code, households, population, within, flags in session.execute(query):
        row = sums.setdefault(code, [0, 0, 0, 0])
        row[0] += households
        row[1] += population
        row[2] += 1
        row[3] += int(not within or bool(flags))
    return {code: tuple(v) for code, v in sums.items()}  # type: ignore[misc]


def nodes(node: dict):
    yield node
    for child in node["children"]:
        yield from nodes(child)


def figures(node: dict) -> tuple[int, int, int, int]:
    return node["households"], node["population"], node["grid_count"], node["grids_breaking_rules"]


def test_the_tree_holds_every_area_and_its_roll_ups_equal_direct_sums(
    reader: TestClient, auth, district: District
) -> None:
    body = tree(reader, auth, "leader")
    sums = direct_sums(reader)
    assert [d["code"] for d in body["districts"]] == ["360702"]
    top = body["districts"][0]
    assert {n["code"] for n in top["children"]} == set(district.streets)
    communities = {n["code"]: n for n in nodes(top) if n["level"] == "community"}
    assert set(communities) == set(district.communities)
    for code, node in communities.items():
        assert figures(node) == sums[code], code
        assert node["published_plan_id"] is not None
    for street in top["children"]:
        assert figures(street) == tuple(sum(figures(c)[i] for c in street["children"]) for i in range(4))
    assert figures(top) == tuple(sum(s[i] for s in sums.values()) for i in range(4))
    assert top["households"] > 0 and top["grid_count"] > 0
    with reader.app.state.sessions() as session:
        assert top["grid_count"] == session.scalar(
            select(func.count()).select_from(Grid).join(PlanVersion).where(PlanVersion.status == "published")
        )


def test_the_tree_is_cut_to_the_callers_scope(reader: TestClient, auth, district: District, users: dict) -> None:
    street = users["planner"][1]
    body = tree(reader, auth, "planner")
    top = body["districts"][0]
    assert [s["code"] for s in top["children"]] == [street]
    assert figures(top) == figures(top["children"][0])
    community = users["leader_c"][1]
    body = tree(reader, auth, "leader_c")
    top = body["districts"][0]
    assert [n["code"] for n in nodes(top) if n["level"] == "community"] == [community]
    assert figures(top) == figures(top["children"][0]) == figures(top["children"][0]["children"][0])
    assert figures(top) == direct_sums(reader)[community]


def test_department_staff_see_the_tree_and_grid_workers_do_not(reader: TestClient, auth) -> None:
    assert tree(reader, auth, "staff")["districts"][0]["code"] == "360702"
    answer = reader.get("/api/v1/hierarchy", headers=auth("worker"))
    assert answer.status_code == 403
    assert "grid_worker role may not" in answer.json()["detail"]
