"""Ids and offsets checked at the edge: within the store's integer columns (paths, queries, Open311 ids)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1  # the stored ids are INTEGER (32 bits on PostgreSQL): anything past it names no row
MAX_OFFSET = 2**63 - 1  # OFFSET takes a BIGINT (PostgreSQL) or a 64-bit INTEGER (SQLite)

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="an id (1 to 2^31-1)")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="how many items to skip")]


def parse_id(text: str) -> int | None:
    """The id written in text (ASCII digits, 1 to 2^31-1), else None: for parameters read by hand (Open311)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
