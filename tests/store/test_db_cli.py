"""The store's commands: db upgrade, import and user add (on the embedded SpatiaLite store)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import typer
from typer.testing import CliRunner

from geogrid.db.session import session_scope
from cli.store import db_app, import_command, user_add_command, user_disable_command, user_enable_command
from geogrid.store.users import get_user

from .conftest import write_layers

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(db_app, name="db")
    app.command("import")(import_command)
    user = typer.Typer()
    user.command("add")(user_add_command)
    user.command("disable")(user_disable_command)
    user.command("enable")(user_enable_command)
    app.add_typer(user, name="user")
    return app


def test_upgrade_import_and_add_user(tmp_path: Path, layer_files: dict[str, Path]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    app = _app()
    refused = runner.invoke(app, ["import", "--districts", str(layer_files["districts"]), "--database-url", url])
    assert refused.exit_code == 2 and "geogrid db upgrade" in refused.stderr
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    args = [a for kind, path in layer_files.items() for a in (f"--{kind.replace('_', '-')}", str(path))]
    done = runner.invoke(app, ["import", *args, "--input-crs", "EPSG:4326", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert "buildings: 9 rows" in done.stdout
    added = runner.invoke(
        app,
        ["user", "add", "wang", "--role", "admin", "--scope", "360702", "--database-url", url],
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert added.exit_code == 0, added.output
    disabled = runner.invoke(app, ["user", "disable", "wang", "--database-url", url])
    assert disabled.exit_code == 0 and "disabled" in disabled.stdout
    with session_scope(url) as session:
        assert get_user(session, "wang").active is False
    assert runner.invoke(app, ["user", "enable", "wang", "--database-url", url]).exit_code == 0
    with session_scope(url) as session:
        assert get_user(session, "wang").active is True
    unknown = runner.invoke(app, ["user", "disable", "nobody", "--database-url", url])
    assert unknown.exit_code == 2 and "no user 'nobody'" in unknown.stderr


def test_bad_input_exits_2_without_traceback(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    app = _app()
    runner.invoke(app, ["db", "upgrade", "--database-url", url])
    streets = write_layers({"streets": layers["streets"]}, tmp_path)["streets"]
    result = runner.invoke(app, ["import", "--streets", str(streets), "--database-url", url])
    assert result.exit_code == 2
    assert "360702" in result.stderr and "Traceback" not in result.output
    bad_role = runner.invoke(
        app,
        [
            "user",
            "add",
            "li",
            "--role",
            "boss",
            "--scope",
            "360702",
            "--password",
            "s3cret-pass",
            "--database-url",
            url,
        ],
    )
    assert bad_role.exit_code == 2 and "role" in bad_role.stderr


def test_user_password_changes_the_password(tmp_path: Path, layer_files: dict[str, Path]) -> None:
    """`geogrid user password NAME` replaces the password: the old one no longer signs in, the new one does."""
    from cli.main import app
    from geogrid.store.users import authenticate

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    districts = runner.invoke(app, ["import", "--districts", str(layer_files["districts"]), "--database-url", url])
    assert districts.exit_code == 0, districts.output
    added = runner.invoke(app, ["user", "add", "li", "--role", "planner", "--scope", "360702",
                                "--password", "first-pass-1", "--database-url", url])
    assert added.exit_code == 0, added.output
    changed = runner.invoke(app, ["user", "password", "li", "--database-url", url], input="second-pass-2\nsecond-pass-2\n")
    assert changed.exit_code == 0 and "password changed" in changed.stdout
    with session_scope(url) as session:
        assert authenticate(session, "li", "first-pass-1") is None
        assert authenticate(session, "li", "second-pass-2") is not None
    short = runner.invoke(app, ["user", "password", "li", "--password", "x", "--database-url", url])
    assert short.exit_code == 2 and "at least" in short.stderr
    nobody = runner.invoke(app, ["user", "password", "nobody", "--password", "long-enough-3", "--database-url", url])
    assert nobody.exit_code == 2 and "no user 'nobody'" in nobody.stderr
