"""Hotline exports (12345 work orders as CSV or Excel) read into reports, one result per row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from geogrid.errors import InputError
from geogrid.incidents.china_time import in_china
from geogrid.incidents.reports import Report
from geogrid.incidents.taxonomy import Taxonomy

COLUMNS: dict[str, tuple[str, ...]] = {  # field -> header names seen in exports (English and Chinese)
    "external_id": ("external_id", "id", "order_id", "工单编号", "工单号", "编号"),
    "category": ("category", "type", "问题类型", "事件类型", "类别", "分类"),
    "description": ("description", "content", "诉求内容", "问题描述", "事件描述", "内容"),
    "address": ("address", "地址", "事发地址", "发生地址"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "coordinate_system", "坐标系"),
    "reported_at": ("reported_at", "time", "created_at", "来电时间", "上报时间", "受理时间"),
    "reporter_name": ("reporter_name", "name", "来电人", "反映人", "上报人"),
    "reporter_contact": ("reporter_contact", "phone", "contact", "联系电话", "电话"),
    "channel": ("channel", "来源", "渠道"),
}
SUFFIXES = (".csv", ".xlsx", ".xlsm")


@dataclass(frozen=True)
class Row:
    """One row of an export: its number (1 = the first data row), and its report or what is wrong with it."""

    number: int
    report: Report | None
    error: str | None = None


def read_export(path: Path, taxonomy: Taxonomy, *, default_channel: str = "hotline_12345") -> list[Row]:
    """Every row of a CSV or Excel export as a Report, or an error naming the bad cell."""
    table = _read_table(Path(path))
    columns = _match_columns(table)
    if "category" not in columns or not ({"address"} <= set(columns) or {"lon", "lat"} <= set(columns)):
        raise InputError(
            "the export needs a category column and a location (an address column, or lon and lat columns); "
            f"found columns: {', '.join(map(str, table.columns))}"
        )
    names = _category_names(taxonomy)
    return [_row(i + 1, record, columns, names, taxonomy, default_channel) for i, record in enumerate(_records(table))]


def _read_table(path: Path) -> pd.DataFrame:
    """The export's first sheet (Excel) or its text (CSV, UTF-8 or GB18030) as strings."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path.name}: a hotline export must be CSV or Excel (.xlsx), not {suffix or 'no suffix'}")
    try:
        if suffix == ".csv":
            try:
                return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            except UnicodeDecodeError:
                return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
        return pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file, said plainly
        raise InputError(f"{path.name}: cannot read the export ({type(exc).__name__}: {exc})") from None


def _match_columns(table: pd.DataFrame) -> dict[str, str]:
    """field -> the export's header for it, matching names case-insensitively."""
    headers = {str(h).strip().lower(): h for h in table.columns}
    found = {}
    for field, aliases in COLUMNS.items():
        header = next((headers[a.lower()] for a in aliases if a.lower() in headers), None)
        if header is not None:
            found[field] = header
    return found


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as dicts of stripped text."""
    return [{k: str(v).strip() for k, v in rec.items()} for rec in table.to_dict("records")]


def _category_names(taxonomy: Taxonomy) -> dict[str, str]:
    """Category codes and their Chinese and English names -> code."""
    names = {}
    for code, category in taxonomy.categories.items():
        names.update({code.lower(): code, category.zh: code, category.en.lower(): code})
    return names


def _row(
    number: int,
    record: dict[str, Any],
    columns: dict[str, str],
    names: dict[str, str],
    taxonomy: Taxonomy,
    default_channel: str,
) -> Row:
    """One record as a Report, or the reason it is not one."""
    value = {field: record.get(header, "") for field, header in columns.items()}
    try:
        category = names.get(value["category"], names.get(value["category"].lower()))
        if category is None:
            raise InputError(f"unknown category {value['category']!r}")
        channel = value.get("channel") or default_channel
        taxonomy.check_channel(channel)
        x, y = _coordinates(value.get("lon", ""), value.get("lat", ""))
        if x is None and not value.get("address"):
            raise InputError("no location: neither lon/lat nor address")
        reported_at = _time(value.get("reported_at", ""))
        report = Report(
            category=category,
            channel=channel,
            description=value.get("description", ""),
            x=x,
            y=y,
            crs=value.get("crs") or None,
            address=value.get("address") or None,
            reporter_name=value.get("reporter_name") or None,
            reporter_contact=value.get("reporter_contact") or None,
            reported_at=reported_at,
        )
        report.external_id = value.get("external_id") or _row_id(report)
    except InputError as exc:
        return Row(number, None, str(exc))
    return Row(number, report)


def _coordinates(lon: str, lat: str) -> tuple[float | None, float | None]:
    """Both coordinates as numbers, or neither."""
    if not lon and not lat:
        return None, None
    try:
        return float(lon), float(lat)
    except ValueError:
        raise InputError(f"coordinates must be numbers, not ({lon!r}, {lat!r})") from None


def _time(text: str) -> datetime | None:
    """A timestamp; without a zone it is China time."""
    if not text:
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise InputError(f"cannot read the time {text!r}") from None
    if pd.isna(stamp):
        raise InputError(f"cannot read the time {text!r}")
    moment = stamp.to_pydatetime()
    return in_china(moment)


def _row_id(report: Report) -> str:
    """A stable id for a row without one, from its parsed content (the same in CSV and Excel), so that
    importing the same export twice stores it once."""
    when = report.reported_at.isoformat() if report.reported_at else ""
    point = f"{report.x:.6f},{report.y:.6f}" if report.x is not None else ""
    key = "|".join((when, report.category, report.address or "", point, report.description))
    return "row-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
