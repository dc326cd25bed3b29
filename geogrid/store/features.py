"""Feature queries behind OGC API - Features: grids of published plans, communities and buildings as GeoJSON."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from geogrid.db.models import PUBLISHED, Building, Community, Grid, PlanVersion
from geogrid.store.spatial import Bbox, Scope, in_bbox

GEOJSON_DIGITS = 7  # decimal places of longitude/latitude written: about 1 cm, as the rest of the API


@dataclass(frozen=True)
class Feature:
    """One feature as read: its id, its geometry as GeoJSON text (never parsed here), its properties."""

    id: Any
    geometry: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Collection:
    """One feature collection: its table, its id column, its properties and which of them filter."""

    id: str
    title: str
    description: str
    model: type[Grid | Community | Building]
    key: Any  # the column whose value is the feature id
    properties: dict[str, Any]  # name -> column
    filters: tuple[str, ...]  # properties usable as query parameters (equality)
    visible: Callable[[Scope], ColumnElement[bool]]
    joins: tuple[tuple[Any, Any], ...] = ()  # (table, on clause)
    where: tuple[Any, ...] = ()

    def select(self, *columns: Any) -> Select:
        """A select of columns over the collection's rows visible in no scope yet."""
        query = select(*columns).select_from(self.model)
        for target, on in self.joins:
            query = query.join(target, on)
        return query.where(*self.where)


COLLECTIONS: dict[str, Collection] = {
    "grids": Collection(
        id="grids",
        title="Grids (网格)",
        description="Second-level grids of every published plan, with their households, residents and broken rules.",
        model=Grid,
        key=Grid.code,
        properties={
            "code": Grid.code,
            "community_code": PlanVersion.community_code,
            "plan_id": Grid.plan_version_id,
            "plan_number": PlanVersion.number,
            "households": Grid.households,
            "population": Grid.population,
            "building_count": Grid.building_count,
            "compactness": Grid.compactness,
            "within_limits": Grid.within_limits,
            "flags": Grid.flags,
        },
        filters=("community_code", "code"),
        visible=Scope.grids,
        joins=((PlanVersion, PlanVersion.id == Grid.plan_version_id),),
        where=(PlanVersion.status == PUBLISHED,),
    ),
    "communities": Collection(
        id="communities",
        title="Communities (社区/村)",
        description="First-level grids: urban communities and villages.",
        model=Community,
        key=Community.code,
        properties={"code": Community.code, "name": Community.name, "kind": Community.kind,
                    "street_code": Community.street_code},
        filters=("street_code", "kind"),
        visible=lambda scope: scope.communities(Community.code),
    ),
    "buildings": Collection(
        id="buildings",
        title="Buildings",
        description="Building footprints with their households and residents.",
        model=Building,
        key=Building.id,
        properties={"id": Building.id, "community_code": Building.community_code, "households": Building.households,
                    "population": Building.population, "compound": Building.compound, "address": Building.address,
                    "units": Building.units, "floors": Building.floors},
        filters=("community_code", "compound"),
        visible=Scope.buildings,
    ),
}


def queryables(collection: Collection) -> dict[str, str]:
    """The collection's filter properties and their JSON Schema types (string, integer, number, boolean)."""
    kinds = {int: "integer", float: "number", bool: "boolean"}
    return {name: kinds.get(_python_type(collection.properties[name]), "string") for name in collection.filters}


def _python_type(column: Any) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


def page(
    session: Session,
    collection: Collection,
    scope: Scope,
    *,
    bbox: Bbox | None = None,
    filters: dict[str, str] | None = None,
    limit: int = 10,
    offset: int = 0,
) -> tuple[int, list[Feature]]:
    """(number matched, the features of one page), in feature-id order."""
    conditions = [collection.visible(scope)]
    if bbox is not None:
        conditions.append(in_bbox(session, collection.model, bbox))
    conditions += [collection.properties[name] == value for name, value in (filters or {}).items()]
    matched = session.scalar(collection.select(func.count()).where(*conditions)) or 0
    query = _features(collection).where(*conditions).order_by(collection.key).limit(limit).offset(offset)
    return int(matched), [_feature(collection, row) for row in session.execute(query)]


def feature(session: Session, collection: Collection, scope: Scope, feature_id: str) -> Feature | None:
    """One feature by id, or None (also when it is outside the scope)."""
    query = _features(collection).where(collection.visible(scope), collection.key == feature_id).limit(1)
    row = session.execute(query).first()
    return None if row is None else _feature(collection, row)


def extent(session: Session, collection: Collection, scope: Scope) -> Bbox | None:
    """The lon/lat bounds of the collection's visible features, rounded outwards to GEOJSON_DIGITS decimals
    (no float noise, nothing cut off), or None when it has none."""
    if session.get_bind().dialect.name == "postgresql":
        edges = [func.ST_XMin, func.ST_YMin, func.ST_XMax, func.ST_YMax]
    else:
        edges = [func.MbrMinX, func.MbrMinY, func.MbrMaxX, func.MbrMaxY]
    aggregate = [agg(edge(collection.model.geom)) for agg, edge in zip((func.min, func.min, func.max, func.max), edges)]
    row = session.execute(collection.select(*aggregate).where(collection.visible(scope))).one()
    return None if row[0] is None else outwards(tuple(float(v) for v in row))  # type: ignore[arg-type]


def outwards(box: Bbox, digits: int = GEOJSON_DIGITS) -> Bbox:
    """box rounded outwards to digits decimal places."""
    scale = 10**digits
    minx, miny, maxx, maxy = box
    return (math.floor(minx * scale) / scale, math.floor(miny * scale) / scale,
            math.ceil(maxx * scale) / scale, math.ceil(maxy * scale) / scale)


def _features(collection: Collection) -> Select:
    columns = [column.label(name) for name, column in collection.properties.items()]
    return collection.select(collection.key.label("_id"), *columns,
                             func.ST_AsGeoJSON(collection.model.geom, GEOJSON_DIGITS).label("_geometry"))


def _feature(collection: Collection, row: Any) -> Feature:
    properties = {name: getattr(row, name) for name in collection.properties}
    if "flags" in properties:
        properties.update(flag_properties(properties["flags"]))
    return Feature(row._id, row._geometry, properties)


def flag_properties(flags: Any) -> dict[str, Any]:
    """A grid's flags as plain attributes GIS clients and vector tiles can hold: count and rule names."""
    flags = json.loads(flags) if isinstance(flags, str) else (flags or [])
    return {"flag_count": len(flags), "flags": ",".join(str(f.get("rule", "")) for f in flags)}
