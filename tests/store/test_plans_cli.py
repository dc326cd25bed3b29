"""`geogrid plans`: partition the store's communities, import a plan file, list and publish (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from cli.main import app
from geogrid.db.models import Grid, PlanVersion
from geogrid.db.session import session_scope
from geogrid.partition.rules import Rules
from geogrid.store.partitioning import community_codes, partition_and_save
from geogrid.store.plans import plan_grids, published_plan

runner = CliRunner()
URBAN, RURAL = "360702001001", "360702002001"


def _plans(engine: Engine) -> list[tuple[str, int, str]]:
    with session_scope(engine) as session:
        query = select(PlanVersion.community_code, PlanVersion.number, PlanVersion.status).order_by(PlanVersion.id)
        return [tuple(row) for row in session.execute(query)]


def test_partition_all_publishes_one_plan_per_community(loaded: Engine, db_url: str) -> None:
    result = runner.invoke(app, ["plans", "partition", "--all", "--publish", "--actor", "ops", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert _plans(loaded) == [(URBAN, 1, "published"), (RURAL, 1, "published")]
    with session_scope(loaded) as session:
        urban = plan_grids(session, published_plan(session, URBAN).id)
        assert urban["households"].sum() == 540  # every household of the community's six buildings
        assert published_plan(session, URBAN).created_by == "ops"
    assert "2 plan versions published" in result.stdout and URBAN in result.stdout
    assert "…" not in result.stdout  # no column cut when the output is not a terminal


def test_partition_one_community_keeps_a_draft_then_publish_archives_the_old(loaded: Engine, db_url: str) -> None:
    assert runner.invoke(app, ["plans", "partition", "--community", URBAN, "--publish", "--database-url", db_url]).exit_code == 0
    drafted = runner.invoke(app, ["plans", "partition", "--community", URBAN, "--max-households", "450",
                                  "--database-url", db_url])
    assert drafted.exit_code == 0, drafted.output
    assert _plans(loaded) == [(URBAN, 1, "published"), (URBAN, 2, "draft")]
    with session_scope(loaded) as session:
        draft = session.scalar(select(PlanVersion).where(PlanVersion.number == 2))
        assert draft.rules["max_households"] == 450 and draft.parent_id is not None
        draft_id = draft.id
    listed = runner.invoke(app, ["plans", "list", "--database-url", db_url])
    assert listed.exit_code == 0 and "和平社区" in listed.stdout and "draft" in listed.stdout
    published = runner.invoke(app, ["plans", "publish", str(draft_id), "--database-url", db_url])
    assert published.exit_code == 0, published.output
    assert _plans(loaded) == [(URBAN, 1, "archived"), (URBAN, 2, "published")]


def test_partition_by_street_and_the_shared_function_agree(loaded: Engine, db_url: str) -> None:
    result = runner.invoke(app, ["plans", "partition", "--street", "360702002", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert _plans(loaded) == [(RURAL, 1, "draft")]
    with session_scope(loaded) as session:
        assert community_codes(session, street="360702002") == [RURAL]
        (saved,) = partition_and_save(session, [RURAL], Rules(), "test")
        first = plan_grids(session, saved.plan_id - 1).drop(columns="geometry")
        again = plan_grids(session, saved.plan_id).drop(columns="geometry")
    assert first.equals(again)  # the CLI and the shared function: the same grids for the same inputs


def test_bad_choices_exit_2_and_store_nothing(loaded: Engine, db_url: str) -> None:
    cases = [
        (["--all", "--street", "360702001"], "exactly one"),
        ([], "exactly one"),
        (["--community", "999"], "unknown community '999'"),
        (["--street", "nowhere"], "unknown street 'nowhere'"),
        (["--all", "--min-households", "600"], "min_households"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["plans", "partition", *args, "--database-url", db_url])
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)
        assert "Traceback" not in result.output
    assert _plans(loaded) == []
    missing = runner.invoke(app, ["plans", "publish", "77", "--database-url", db_url])
    assert missing.exit_code == 2 and "no plan version 77" in missing.stderr


def test_import_a_plan_made_by_geogrid_partition(loaded: Engine, db_url: str, layer_files: dict[str, Path],
                                                 tmp_path: Path) -> None:
    plan = tmp_path / "plan.gpkg"
    made = runner.invoke(app, ["partition", "--communities", str(layer_files["communities"]),
                               "--buildings", str(layer_files["buildings"]), "--roads", str(layer_files["roads"]),
                               "--villager-groups", str(layer_files["villager_groups"]), "--out", str(plan)])
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["plans", "import", str(plan), "--publish", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert _plans(loaded) == [(URBAN, 1, "published"), (RURAL, 1, "published")]
    written = gpd.read_file(plan, layer="grids")
    with session_scope(loaded) as session:
        stored = session.scalar(select(func.count()).select_from(Grid))
        flags = plan_grids(session, published_plan(session, URBAN).id).set_index("grid_code")["flags"]
    assert stored == len(written)
    expected = written.set_index("grid_code")["flags"]
    assert {c: json.loads(flags[c]) for c in flags.index} == {c: json.loads(expected[c]) for c in flags.index}


def test_import_refuses_a_plan_of_communities_not_in_the_store(engine: Engine, db_url: str, tmp_path: Path,
                                                              layers: dict[str, gpd.GeoDataFrame]) -> None:
    grids = layers["communities"].rename(columns={"community_code": "community_code"}).assign(
        grid_code=lambda f: f["community_code"] + "-01", households=400, population=900, building_count=3,
        within_limits=True, flags="[]")
    plan = tmp_path / "plan.gpkg"
    pyogrio.write_dataframe(grids[["grid_code", "community_code", "households", "population", "building_count",
                                   "within_limits", "flags", "geometry"]], plan, layer="grids")
    pyogrio.write_dataframe(gpd.pd.DataFrame({"building_id": ["U0"], "grid_code": [URBAN + "-01"]}), plan,
                            layer="assignments", append=True)
    result = runner.invoke(app, ["plans", "import", str(plan), "--database-url", db_url])
    assert result.exit_code == 2 and "not in the store" in result.stderr, result.output
    assert _plans(engine) == []
