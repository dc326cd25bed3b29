"""Queries shared by routers: lookups that answer 404, and which grids break a rule."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, not_, or_, select
from sqlalchemy.orm import Session

from api.errors import NotFoundError
from geogrid.db.models import Community, Grid, PlanVersion
from geogrid.store.plans import get_plan, published_plan


def breaks_a_rule() -> ColumnElement[int]:
    """1 for a grid outside a limit or with any flag, else 0 (sum it to count them)."""
    return case((or_(not_(Grid.within_limits), func.json_array_length(Grid.flags) > 0), 1), else_=0)


def check_community(session: Session, code: str) -> None:
    """404 unless the community exists."""
    if session.scalar(select(Community.code).where(Community.code == code)) is None:
        raise NotFoundError(f"no community {code!r}")


def community_plan(session: Session, code: str, plan_id: int | None) -> PlanVersion:
    """The community's plan version plan_id, or its published one; 404 when there is none."""
    check_community(session, code)
    if plan_id is None:
        plan = published_plan(session, code)
        if plan is None:
            raise NotFoundError(f"community {code} has no published plan yet; give ?plan_id= of a draft")
        return plan
    plan = get_plan(session, plan_id)
    if plan.community_code != code:
        raise NotFoundError(f"plan version {plan_id} belongs to community {plan.community_code}, not {code}")
    return plan
