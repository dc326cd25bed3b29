"""What our workflow means in Open311 GeoReport v2: open or closed, the status notes, who is responsible, what next.

The API (api/routers/open311.py) only reads and writes the spec's formats; these rules decide the content.
"""

from __future__ import annotations

import math

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from geogrid.errors import InputError
from geogrid.incidents import workflow
from geogrid.incidents.deadlines import CLOSED
from geogrid.incidents.taxonomy import Taxonomy

STATUSES = ("open", "closed")


class Case(Protocol):
    """What these rules read of an incident."""

    id: int
    category: str
    status: str
    level: int
    department: str | None
    grid_code: str | None
    community_code: str | None
    street_code: str | None


@dataclass(frozen=True)
class Names:
    """What a batch of requests refers to: the last staff note of each case, community and street names."""

    notes: dict[int, str]
    communities: dict[str, str]
    streets: dict[str, str]


def status_of(case: Case) -> str:
    """Open311's status: closed once our workflow closed the case, open in every other state."""
    return "closed" if case.status == CLOSED else "open"


def states_of(statuses: Sequence[str]) -> list[str]:
    """Our workflow states behind Open311 statuses (open: every state but closed); InputError for others."""
    states: list[str] = []
    for status in statuses:
        if status not in STATUSES:
            raise InputError(f"status must be open or closed, not {status!r}")
        states += list(workflow.OPEN_STATES) if status == "open" else [CLOSED]
    return states


def _department_name(taxonomy: Taxonomy, code: str) -> str:
    """A department as '中文 (English)', or its code if the taxonomy does not know it."""
    department = taxonomy.departments.get(code)
    return f"{department.zh} ({department.en})" if department else code


def status_notes(case: Case, taxonomy: Taxonomy, names: Names) -> str:
    """Our state, level, department and last note behind Open311's open/closed."""
    zh, en = workflow.STATE_LABELS.get(case.status, (case.status, case.status))
    level = case.level
    parts = [f"{zh} ({en})", f"第{level}级 {workflow.LEVEL_NAMES_ZH.get(level, '')} (level {level}, {workflow.LEVEL_NAMES.get(level, '')})"]
    if case.department:
        parts.append(_department_name(taxonomy, case.department))
    if case.grid_code is None:
        parts.append("位置待核实 (awaiting placement in a grid)")
    if case.id in names.notes:
        parts.append(f"意见 (note): {names.notes[case.id]}")
    return "; ".join(parts)


def agency_responsible(case: Case, taxonomy: Taxonomy, names: Names) -> str | None:
    """Who handles the case now: the department once dispatched, else the street, community or grid at its level."""
    if case.department:
        department = taxonomy.departments.get(case.department)
        return department.zh if department else case.department
    community = names.communities.get(case.community_code or "", case.community_code)
    if case.level >= 3 and case.street_code:
        return names.streets.get(case.street_code, case.street_code)
    if case.level == 2 or (case.grid_code is None and community):
        return community
    return f"{community} 网格 {case.grid_code}" if case.grid_code else None


def service_notice(case: Case, taxonomy: Taxonomy) -> str | None:
    """What happens next and within which deadline (nothing once closed)."""
    category = taxonomy.categories.get(case.category)
    if case.status == CLOSED or category is None:
        return None
    if case.grid_code is None:
        return "位置核实后分派到网格处置 (the location will be checked and the case placed in a grid)"
    level = case.level
    hours = f"{category.deadline_hours[level - 1]:g}"
    return f"由{workflow.LEVEL_NAMES_ZH[level]}在{hours}小时内处置 (to be handled by the {workflow.LEVEL_NAMES[level]} within {hours} h)"


METRES_PER_DEGREE = 111_320.0  # along a meridian; along a parallel times cos(latitude)


def public_point(lat: float | None, lon: float | None, metres: float) -> tuple[float | None, float | None]:
    """A case's point as the public sees it: snapped to a grid of about metres (north-south and east-west), so
    that a listed case shows its block, not its door; metres 0 keeps the point."""
    if lat is None or lon is None or metres <= 0:
        return lat, lon
    step = metres / METRES_PER_DEGREE
    shown_lat = round(lat / step) * step
    step_lon = step / max(math.cos(math.radians(shown_lat)), 0.01)
    return round(shown_lat, 6), round(round(lon / step_lon) * step_lon, 6)
