"""The area tree (district → street/town → community) as stored: its rows, each community's published
figures, and the outline a user's map opens on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geogrid.db.models import PUBLISHED, Community, District, Grid, PlanVersion, Street
from geogrid.store.grids import breaks_a_rule

LEVELS: tuple[tuple[str, type[Community | Street | District]], ...] = (
    ("community", Community), ("street", Street), ("district", District))


@dataclass(frozen=True)
class Areas:
    """The three levels' rows (without geometry, in code order) and each community's published figures:
    code -> (published plan id, households, population, grids, grids breaking a rule)."""

    districts: list[Any]
    streets: list[Any]
    communities: list[Any]
    figures: dict[str, tuple[int, ...]]


def areas(session: Session) -> Areas:
    """The areas and each community's published figures."""
    return Areas(_rows(session, District), _rows(session, Street), _rows(session, Community),
                 published_figures(session))


def _rows(session: Session, model: type[District | Street | Community]) -> list[Any]:
    """The table's rows without geometry, in code order."""
    columns = [c for c in model.__table__.columns if c.name != "geom"]
    return list(session.execute(select(*columns).order_by(model.code)))


def published_figures(session: Session) -> dict[str, tuple[int, ...]]:
    """Per community: (published plan id, households, population, grids, grids breaking a rule)."""
    query = (
        select(
            PlanVersion.community_code,
            PlanVersion.id,
            func.sum(Grid.households),
            func.sum(Grid.population),
            func.count(Grid.id),
            func.sum(breaks_a_rule()),
        )
        .join(Grid, Grid.plan_version_id == PlanVersion.id)
        .where(PlanVersion.status == PUBLISHED)
        .group_by(PlanVersion.community_code, PlanVersion.id)
    )
    return {code: (plan_id, *(int(v or 0) for v in rest)) for code, plan_id, *rest in session.execute(query)}


def outline(session: Session, code: str, *, grid: bool = False) -> tuple[BaseGeometry, str] | None:
    """The shape of the published grid code (grid=True) or else of the area code, with its level
    ("grid", "community", "street" or "district"); for a code in none of them, the first district's;
    None for a store with no district."""
    geom = None
    if grid:
        geom = session.scalar(select(Grid.geom).join(PlanVersion).where(PlanVersion.status == PUBLISHED,
                                                                         Grid.code == code))
        if geom is not None:
            return to_shape(geom), "grid"
    for level, model in LEVELS:
        geom = session.scalar(select(model.geom).where(model.code == code))
        if geom is not None:
            return to_shape(geom), level
    geom = session.scalar(select(District.geom).limit(1))
    return None if geom is None else (to_shape(geom), "district")
