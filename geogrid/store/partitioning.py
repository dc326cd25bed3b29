"""Partition communities of the store and save each as a draft plan version (published on request).

One home for "partition a community and save it": the API's partition jobs, the demo store and
`geogrid plans partition` all go through here, so the same inputs, rules and outputs apply everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from geogrid.db.models import Community, Grid, Street
from geogrid.db.session import session_scope
from geogrid.errors import InputError
from geogrid.partition.engine import PartitionResult
from geogrid.partition.rules import Rules
from geogrid.store.inputs import CommunityInputs, community_inputs
from geogrid.store.plans import publish, save_partition

Tick = Callable[[int, int], None]  # (communities done, communities in all)


@dataclass
class StoreInputs:
    """The partition inputs of one or more communities of the store, with each one's published plan id."""

    codes: list[str]
    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame | None = None
    villager_groups: gpd.GeoDataFrame | None = None
    previous_grids: gpd.GeoDataFrame | None = None
    previous_assignments: pd.DataFrame | None = None
    previous_plan_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SavedPlan:
    """A plan version made by a partition run: its id, number, grid count and the community's report."""

    community_code: str
    plan_id: int
    number: int
    grids: int
    published: bool
    report: dict[str, Any]


def community_codes(session: Session, *, street: str | None = None, codes: Sequence[str] = ()) -> list[str]:
    """The store's community codes in order: all, those of one street, or the given ones (each must exist)."""
    query = select(Community.code).order_by(Community.code)
    if street is not None:
        if session.get(Street, street) is None:
            raise InputError(f"unknown street {street!r}: import it first, or see the store's streets")
        query = query.where(Community.street_code == street)
    found = list(session.scalars(query))
    if codes:
        missing = sorted(set(codes) - set(found))
        if missing:
            raise InputError(f"unknown community {', '.join(map(repr, missing))} in the store")
        return sorted(set(codes))
    return found


def read_inputs(session: Session, codes: Iterable[str], *, keep_previous: bool = True) -> StoreInputs:
    """The communities' outlines, buildings, roads, villager groups and published plans, as one input."""
    parts: list[CommunityInputs] = [community_inputs(session, code, keep_previous=keep_previous) for code in codes]
    if not parts:
        raise InputError("no community to partition: import communities and buildings first")
    roads = _concat([p.roads for p in parts])
    return StoreInputs(
        codes=[str(p.communities["community_code"].iloc[0]) for p in parts],
        communities=_concat([p.communities for p in parts]),  # type: ignore[arg-type]
        buildings=_concat([p.buildings for p in parts]),  # type: ignore[arg-type]
        roads=None if roads is None else roads.drop_duplicates("road_id", ignore_index=True),
        villager_groups=_concat([p.villager_groups for p in parts]),
        previous_grids=_concat([p.previous_grids for p in parts]),
        previous_assignments=_concat([p.previous_assignments for p in parts]),
        previous_plan_ids={str(p.communities["community_code"].iloc[0]): p.previous_plan_id
                           for p in parts if p.previous_plan_id is not None},
    )


def run(inputs: StoreInputs, rules: Rules, *, progress: Tick | None = None,
        executor: Executor | None = None) -> PartitionResult:
    """Run the engine on the inputs (no store access: safe in a worker thread or another process)."""
    from geogrid.partition import partition

    return partition(inputs.communities, inputs.buildings, roads=inputs.roads, villager_groups=inputs.villager_groups,
                     previous_grids=inputs.previous_grids, previous_assignments=inputs.previous_assignments,
                     rules=rules, progress=progress, executor=executor)


def save(
    session: Session,
    inputs: StoreInputs,
    result: PartitionResult,
    rules: Rules | None,
    username: str,
    *,
    note: str | None = None,
    publish_plans: bool = False,
) -> list[SavedPlan]:
    """Store each community's grids as a new draft plan version (published when asked), in session's transaction."""
    reports = {str(c.get("community_code")): c for c in result.report.get("communities", [])}
    saved = []
    for code in inputs.codes:
        plan = save_partition(session, code, result, rules, username, note=note,
                              parent_id=inputs.previous_plan_ids.get(code))
        if publish_plans:
            publish(session, plan.id, username)
        count = session.scalar(select(func.count()).select_from(Grid).where(Grid.plan_version_id == plan.id)) or 0
        saved.append(SavedPlan(code, plan.id, plan.number, int(count), publish_plans, jsonable(reports.get(code, {}))))
    return saved


def partition_and_save(
    session: Session,
    codes: Iterable[str],
    rules: Rules,
    username: str,
    *,
    keep_previous: bool = True,
    publish_plans: bool = False,
    note: str | None = None,
    progress: Tick | None = None,
    executor: Executor | None = None,
) -> list[SavedPlan]:
    """Read the communities from the store, partition them together and save one plan version each."""
    inputs = read_inputs(session, codes, keep_previous=keep_previous)
    result = run(inputs, rules, progress=progress, executor=executor)
    return save(session, inputs, result, rules, username, note=note, publish_plans=publish_plans)


def run_job(inputs: StoreInputs, rules: Rules, username: str, sessions: sessionmaker[Session],
            progress: Callable[[float], None], *, note: str | None = None, loaded: float = 0.05,
            partitioned: float = 0.9) -> dict[str, Any]:
    """A partition job's work, in its own thread: run the engine on the inputs read when the job was started,
    reporting progress from loaded to partitioned, and save the result as a draft in a session of its own."""
    progress(loaded)
    result = run(inputs, rules, progress=lambda done, total: progress(loaded + (partitioned - loaded) * done / max(total, 1)))
    progress(partitioned)
    with session_scope(sessions) as session:
        (saved,) = save(session, inputs, result, rules, username, note=note)
    return {"plan_id": saved.plan_id, "report": jsonable(result.report)}


def jsonable(value: Any) -> Any:
    """The report as plain JSON values (numpy numbers as Python numbers, sets as lists)."""
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def _concat(frames: list[Any]) -> Any:
    present = [f for f in frames if f is not None and len(f)]
    if not present:
        return None
    joined = pd.concat(present, ignore_index=True)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=present[0].crs) if "geometry" in joined else joined
