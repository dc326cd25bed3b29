"""Formula cells: text a spreadsheet would run stays text in every CSV we write (issue 17, defect 5)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geogrid.geo.io import safe_cell, safe_frame
from geogrid.geo.locate import write_located


def test_formula_starts_are_quoted_and_the_rest_kept() -> None:
    frame = pd.DataFrame({"text": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\t=1", "占道经营", None],
                          "number": [1, 2, 3, 4, 5, 6, 7]})
    safe = safe_frame(frame)
    assert safe["text"].tolist()[:6] == ["'=cmd|' /C calc'!A0", "'+1", "'-2", "'@SUM(A1)", "'\t=1", "占道经营"]
    assert pd.isna(safe["text"].iloc[6]) and safe["number"].tolist() == frame["number"].tolist()
    assert frame["text"].iloc[0] == "=cmd|' /C calc'!A0"  # the input is left as it was
    assert safe_cell(-3) == -3 and safe_cell("a=b") == "a=b"


def test_located_points_written_as_csv_carry_no_formula(tmp_path) -> None:
    points = gpd.GeoDataFrame({"description": ["=HYPERLINK(\"http://x\")"], "grid_code": ["g1"],
                               "suggestions": [[]]}, geometry=[Point(114.9, 25.8)], crs=4326)
    write_located(points, tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
