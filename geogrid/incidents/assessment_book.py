"""The assessment as an Excel workbook (openpyxl): one sheet per level with the period and the weights, ready to
print (landscape, one page wide, the header row repeated on every page)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from geogrid.incidents.assessment import FIGURES, KEY_NAMES, LEVEL_NAMES, Formula

COLUMNS: tuple[tuple[str, str, str, str], ...] = (  # field, Chinese, English, number format
    ("rank", "排名", "Rank", "0"),
    ("name", "名称", "Name", "@"),
    ("key", "代码", "Code", "@"),
    ("cases", "案件数", "Cases", "0"),
    ("checked_in_on_time", "按时报到率", "Checked in on time", "0.0%"),
    ("handled_on_time", "按时办结率", "Handled on time", "0.0%"),
    ("median_hours_to_handle", "办理时长中位数(小时)", "Median hours to handle", "0.0"),
    ("closure_rate", "结案率", "Closure rate", "0.0%"),
    ("satisfaction", "群众满意度(1-5)", "Satisfaction (1-5)", "0.00"),
    ("street_rating", "街道评价(1-5)", "Street's rating (1-5)", "0.00"),
    ("reopened", "重开率", "Reopened", "0.0%"),
    ("score", "得分", "Score", "0.0"),
)
WEIGHT_NAMES = {
    "checked_in_on_time": ("按时报到率", "Checked in on time"),
    "handled_on_time": ("按时办结率", "Handled on time"),
    "closure_rate": ("结案率", "Closure rate"),
    "satisfaction": ("群众满意度", "Satisfaction"),
    "street_rating": ("街道评价", "Street's rating"),
    "not_reopened": ("未重开率", "Not reopened"),
}
TEXT = {
    "title": ("考核结果", "Assessment"),
    "period": ("考核期间", "Period"),
    "weights": ("权重", "Weights"),
    "check_in": ("报到时限(派遣后小时)", "Check-in deadline (hours after dispatch)"),
    "handle": ("办理时限(派遣后小时; 0 为类别第三级时限)", "Handling deadline (hours after dispatch; 0: the category's)"),
}


def _text(key: str, lang: str) -> str:
    zh, en = TEXT[key]
    return en if lang == "en" else zh


def _header(sheet: Worksheet, level: str, period: str, formula: Formula, lang: str) -> int:
    """Title, period, deadlines and weights at the top of a sheet; answers the row of the table's header."""
    name = LEVEL_NAMES[level][1 if lang == "en" else 0]
    sheet.append([f"{name}{' ' if lang == 'en' else ''}{_text('title', lang)}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_text("period", lang), period])
    sheet.append([_text("check_in", lang), formula.deadlines.check_in_hours])
    sheet.append([_text("handle", lang), formula.deadlines.handle_hours])
    weights = formula.weights.model_dump()
    sheet.append([_text("weights", lang)] + [WEIGHT_NAMES[f][1 if lang == "en" else 0] for f in FIGURES])
    sheet.append([""] + [weights[f] for f in FIGURES])
    sheet.append([])
    return sheet.max_row + 1


def _table(sheet: Worksheet, level: str, rows: Sequence[Mapping[str, Any]], start: int, lang: str) -> None:
    """The ranking: one row per department or area, numbers as numbers with their formats."""
    columns = list(COLUMNS)
    if level == "grid_worker":
        columns.insert(2, ("worker", "网格员", "Grid worker", "@"))
    sheet.append([c[2] if lang == "en" else c[1] for c in columns])
    for cell in sheet[start]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    key = KEY_NAMES[level]
    for row in rows:
        sheet.append([row.get(key) if field == "key" else row.get(field) for field, *_ in columns])
    for index, (_, _, _, number_format) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 24 if index in (2, 3) else 12
        for cells in sheet.iter_rows(min_row=start + 1, min_col=index, max_col=index):
            cells[0].number_format = number_format
    sheet.print_title_rows = f"{start}:{start}"
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)


def workbook(
    levels: Mapping[str, Sequence[Mapping[str, Any]]], period: str, formula: Formula, lang: str = "zh"
) -> bytes:
    """The workbook (.xlsx bytes): one sheet per level (named in lang), each with the period, the deadlines,
    the weights and the ranking."""
    book = Workbook()
    book.remove(book.active)
    for level, rows in levels.items():
        sheet = book.create_sheet(LEVEL_NAMES[level][1 if lang == "en" else 0])
        _table(sheet, level, rows, _header(sheet, level, period, formula, lang), lang)
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
