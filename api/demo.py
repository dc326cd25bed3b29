"""The demo store: the sample district imported, partitioned and published, and one user per role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geogrid import access
from geogrid.db.models import District, utcnow
from geogrid.partition.rules import Rules
from geogrid.store import audit
from geogrid.store.camera_records import import_cameras
from geogrid.store.imports import KINDS, import_layer
from geogrid.store.incidents import insert_sample_history
from geogrid.store.partitioning import community_codes, partition_and_save
from geogrid.store.plans import published_grids
from geogrid.store.users import add_user
from geogrid.incidents.taxonomy import load_taxonomy

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
SAMPLE_FILES = {kind: kind for kind in KINDS} | {"districts": "district"}  # store kind -> sample layer name
SAMPLE_EXTRAS = ("cameras", "incidents")  # loaded when present: camera points, a year of cases
ACTOR = "demo"


@dataclass(frozen=True)
class DemoUser:
    """A sample account; its password is published in the README, so demo mode only."""

    username: str
    password: str
    role: str
    scope: str
    display_name: str
    department: str | None = None


def sample_layers(folder: Path = SAMPLE_DIR) -> dict[str, gpd.GeoDataFrame]:
    """The sample district's layers, keyed by store kind: data/sample if present, else generated."""
    names = SAMPLE_FILES | {extra: extra for extra in SAMPLE_EXTRAS}
    if all((folder / f"{name}.geojson").exists() for name in names.values()):
        return {kind: gpd.read_file(folder / f"{name}.geojson") for kind, name in names.items()}
    from geogrid.sample.district import build

    layers = build()
    return {kind: layers[name] for kind, name in names.items()}


def is_empty(session: Session) -> bool:
    """True when the store holds no district yet."""
    return session.scalar(select(District.code).limit(1)) is None


def made_from_sample(session: Session) -> bool:
    """True when the store was filled by load (its changes are audited as ACTOR): only then may demo mode, with its
    published passwords and Open311 key, serve it."""
    return audit.has_entries_by(session, ACTOR)


DEMO_WARNING = ("DEMO MODE (演示模式): the demo users' passwords and the Open311 key open311-demo-key are published "
                "in the README; never put real data in this store. Production: GEOGRID_DATABASE_URL, or GEOGRID_DEMO=false.")


def load(
    session: Session,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    rules: Rules | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> list[DemoUser]:
    """Import the layers, partition and publish every community, add the demo users (in session's transaction)."""
    for kind in KINDS:
        import_layer(session, kind, layers[kind], username=ACTOR)
    say(f"imported {len(layers['communities'])} communities and {len(layers['buildings'])} buildings")
    session.flush()
    saved = partition_and_save(session, community_codes(session), rules or Rules(), ACTOR, publish_plans=True,
                               note="demo: partitioned at first start")
    say(f"partitioned and published {sum(plan.grids for plan in saved)} grids")
    if "cameras" in layers:
        import_cameras(session, layers["cameras"], ACTOR)
        say(f"placed {len(layers['cameras'])} cameras")
    if "incidents" in layers:
        stored = insert_sample_history(session, layers["incidents"], load_taxonomy(), utcnow())
        say(f"stored {stored} sample cases with a year of history")
    users = demo_users(layers, list(published_grids(session)["grid_code"]))
    for user in users:
        add_user(session, user.username, user.password, user.role, user.scope, user.display_name,
                 department=user.department, actor=ACTOR)
    return users


def demo_users(layers: dict[str, gpd.GeoDataFrame], grid_codes: list[str]) -> list[DemoUser]:
    """One user per role: admin, leader and department staff over the district, a planner over the
    first street, a grid worker in the first grid."""
    district = str(layers["districts"]["district_code"].iloc[0])
    street = str(min(layers["streets"]["street_code"].astype(str)))
    grid = grid_codes[0]
    return [
        DemoUser("admin", "admin-demo", access.ADMIN, district, "系统管理员"),
        DemoUser("planner", "planner-demo", access.PLANNER, street, "网格规划员"),
        DemoUser("leader", "leader-demo", access.LEADER, district, "区领导"),
        DemoUser("worker", "worker-demo", access.GRID_WORKER, grid, "网格员"),
        DemoUser("staff", "staff-demo", access.DEPARTMENT_STAFF, district, "区城市管理局", "urban_management"),
    ]
