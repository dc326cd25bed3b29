"""The command line says what it did and why it stops: db upgrade's report, --version, an unreachable scheduler."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from cli.main import app
from geogrid import __version__
from geogrid.db.migrate import alembic_config, upgrade

runner = CliRunner()


def head() -> str:
    """The newest migration's revision."""
    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def test_db_upgrade_reports_created_upgraded_and_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    created = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert created.exit_code == 0 and created.stdout.strip() == f"created the store (schema {head()})"
    again = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert again.stdout.strip() == f"the store is up to date (schema {head()})"
    older = f"sqlite:///{tmp_path / 'older.sqlite'}"
    assert upgrade(older, "0003") == (None, "0003")
    upgraded = runner.invoke(app, ["db", "upgrade", "--database-url", older])
    assert upgraded.exit_code == 0 and upgraded.stdout.strip() == f"upgraded the store from 0003 to {head()}"


def test_version() -> None:
    shown = runner.invoke(app, ["--version"])
    assert shown.exit_code == 0 and shown.stdout.strip() == f"geogrid {__version__}"


def test_an_unreachable_dask_scheduler_is_one_line_and_exit_2(tmp_path: Path, layer_files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["partition", "--communities", str(layer_files["communities"]),
                                 "--buildings", str(layer_files["buildings"]), "--out", str(tmp_path / "plan.gpkg"),
                                 "--dask-scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "plan.gpkg").exists()


def test_tables_keep_every_number_when_piped(tmp_path: Path, layer_files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["partition", "--communities", str(layer_files["communities"]),
                                 "--buildings", str(layer_files["buildings"]), "--out", str(tmp_path / "plan.gpkg"),
                                 "--min-households", "200", "--max-households", "260"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "360702001001" in line or "total" in line]
    assert len(rows) == 2 and "…" not in result.stdout  # rich would cut columns to 80 characters
    assert "min_households" in rows[0] or "max_households" in rows[0] or "%" in rows[0]
