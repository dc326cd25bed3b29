"""`geogrid map`: write a standalone offline HTML map of grids, incidents and cameras."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from maps.i18n import DEFAULT_LANG, LANGS


def map_command(
    grids: Path = typer.Option(..., dir_okay=False, help="Grid polygons with a grid_code column (e.g. plan.gpkg)."),
    out: Path = typer.Option(..., dir_okay=False, help="The HTML file to write (one file, works offline)."),
    incidents: Optional[Path] = typer.Option(None, dir_okay=False, help="Incident points, shown as a heat map."),
    cameras: Optional[Path] = typer.Option(None, dir_okay=False, help="Camera points."),
    lang: str = typer.Option(DEFAULT_LANG, help=f"Label language: {' or '.join(LANGS)}."),
) -> None:
    """Write one self-contained HTML map (no internet needed) of grids, an incident heat map and cameras."""
    from cli.main import user_errors
    from maps.standalone import write_standalone_map

    with user_errors():
        written = write_standalone_map(grids, out, incidents_path=incidents, cameras_path=cameras, lang=lang)
    typer.echo(f"wrote {written} ({written.stat().st_size:,} bytes)")
