"""The assessment (考核) of departments, streets, communities and grid workers, as JSON or an Excel workbook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.deps import FormulaDep, Principal, SessionDep, TaxonomyDep, require_role
from api.params import WindowDep
from geogrid import access
from geogrid.db.models import utcnow
from geogrid.incidents.assessment import LEVELS
from geogrid.incidents.assessment_book import workbook
from geogrid.store.assessment import assessment_rows, read_history

router = APIRouter(prefix="/api/v1", tags=["Statistics"])
Viewer = Annotated[Principal, Depends(require_role(*access.STATISTICS_VIEWERS))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/assessment", summary="The assessment (考核) of departments, areas or grid workers")
def assessment(
    user: Viewer, session: SessionDep, window: WindowDep, taxonomy: TaxonomyDep, formula: FormulaDep,
    level: str = Query("department", pattern="^(department|street|community|grid_worker)$"),
    format_: str = Query("json", alias="format", pattern="^(json|xlsx)$"),
    lang: str = Query("zh", pattern="^(zh|en)$"),
) -> Any:
    """Per department (or street, community, grid and its worker) over the cases reported in the period inside
    your area: cases, checked_in_on_time and handled_on_time (shares), median_hours_to_handle, closure_rate,
    satisfaction (the reporters' mean rating), reopened (share), street_rating (the street's mean rating of the
    department's work) and score, best first, with the weights and deadlines used. `format=xlsx`: a workbook
    with one sheet per level."""
    area, now = window.scoped(user), utcnow()
    history = read_history(session, area=area, since=window.since, until=window.until, category=window.category)
    common = {"formula": formula, "taxonomy": taxonomy, "now": now, "lang": lang, "history": history}
    if format_ == "xlsx":
        levels = {lv: assessment_rows(session, lv, **common) for lv in LEVELS}
        content = workbook(levels, _period(window.since, window.until, lang), formula, lang)
        return Response(content, media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="assessment.xlsx"'})
    return {
        "level": level, "area": area, "since": window.since, "until": window.until, "category": window.category,
        "weights": formula.weights.model_dump(), "deadlines": formula.deadlines.model_dump(),
        "rows": assessment_rows(session, level, **common),
    }


def _period(since: datetime | None, until: datetime | None, lang: str) -> str:
    """The period as text for the workbook."""
    start = since.isoformat() if since else ("the beginning" if lang == "en" else "开始")
    end = until.isoformat() if until else ("now" if lang == "en" else "至今")
    return f"{start} – {end}"
