"""Text made safe for spreadsheets: a cell a spreadsheet would run as a formula (=, +, -, @ first) stays text."""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel, LibreOffice and Sheets read as a formula's start
QUOTE = "'"  # the spreadsheet's own mark for 'this is text'


def safe_cell(value: Any) -> Any:
    """value with a quote in front when it is text a spreadsheet would run as a formula; anything else as is."""
    return QUOTE + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of frame whose text cells are safe_cell'd, column by column (whole-column string operations)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        text = values.where(values.map(type) == str)
        risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            out[column] = values.where(~risky, QUOTE + text)
    return out
