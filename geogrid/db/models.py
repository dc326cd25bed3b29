"""Tables of the store: the area hierarchy, source layers, plan versions, users and audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

SRID = 4326
DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"  # a plan version's life: draft → published → archived
PLAN_STATUSES = (DRAFT, PUBLISHED, ARCHIVED)
COMMUNITY_KINDS = ("urban", "rural")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def geometry(kind: str) -> Geometry:
    """A WGS 84 geometry column type of kind, with a spatial index on every backend."""
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=True)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base with stable constraint names."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class District(Base):
    """区: the top of the hierarchy."""

    __tablename__ = "districts"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"))


class Street(Base):
    """街道 (street) or 镇 (town)."""

    __tablename__ = "streets"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="street")
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"))


class Community(Base):
    """社区 (urban) or 村 (rural): the first-level grid."""

    __tablename__ = "communities"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="urban")
    street_code: Mapped[str] = mapped_column(ForeignKey("streets.code"), index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"))


class Building(Base):
    """A building footprint with its households and population."""

    __tablename__ = "buildings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("communities.code"), index=True)
    households: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    compound: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))
    units: Mapped[int | None] = mapped_column(Integer)
    floors: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"))


class Road(Base):
    """A road centre line (grid boundaries prefer to follow roads)."""

    __tablename__ = "roads"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    road_class: Mapped[str | None] = mapped_column(String(32))
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTILINESTRING"))


class VillagerGroup(Base):
    """村民小组: a rural community's natural sub-unit."""

    __tablename__ = "villager_groups"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    population: Mapped[int] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"))


class PlanVersion(Base):
    """One version of a community's division into grids (draft → published → archived)."""

    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("community_code", "number"),
        # At most one published version per community, even under concurrent publishes.
        Index(
            "uq_plan_versions_published",
            "community_code",
            unique=True,
            postgresql_where=text(f"status = '{PUBLISHED}'"),
            sqlite_where=text(f"status = '{PUBLISHED}'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column()
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(Text)
    publish_reason: Mapped[str | None] = mapped_column(Text)  # why it was published outside a count limit

    __mapper_args__ = {"version_id_col": revision}  # optimistic locking; the API's ETag


class Grid(Base):
    """A second-level grid (网格) of one plan version."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("plan_version_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    households: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    building_count: Mapped[int] = mapped_column(Integer)
    compactness: Mapped[float | None] = mapped_column(Float)
    within_limits: Mapped[bool] = mapped_column(Boolean)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    geom: Mapped[WKBElement] = mapped_column(geometry("MULTIPOLYGON"))


class Assignment(Base):
    """Which grid a building (or a range of a tower's units) belongs to in a plan version."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("plan_version_id", "building_id", "units"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[str] = mapped_column(String(64), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(64))
    units: Mapped[str] = mapped_column(String(64), default="")
    households: Mapped[int] = mapped_column(Integer, default=0)
    population: Mapped[int] = mapped_column(Integer, default=0)


class User(Base):
    """A person who signs in, with one role and the area code they may act on."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(64))  # department staff: the department they work for
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # raised when the account is disabled or its password changes: tokens issued under an older version are refused
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditLog(Base):
    """Who changed what and when, with the object's state before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DataVersion(Base):
    """One row: a number raised by every committed transaction that wrote an audit row, in commit order.

    Answers kept in memory (tiles, GeoJSON, the signed-in user) are valid while it stays the same.
    """

    __tablename__ = "data_version"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class Incident(Base):
    """A reported case (事件): where it is, which grid holds it, and where it stands in the workflow."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_area_time", "district_code", "reported_at"),
        Index("ix_incidents_community_time", "community_code", "reported_at"),
        Index("ix_incidents_open_queue", "status", "level", "street_code", "deadline_at",  # the case desk (0009)
              postgresql_where=text("status <> 'closed' AND grid_code IS NOT NULL"),
              sqlite_where=text("status <> 'closed' AND grid_code IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    token: Mapped[str] = mapped_column(String(36), unique=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(32))
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_contact: Mapped[str | None] = mapped_column(String(200))
    media_urls: Mapped[list[Any]] = mapped_column(default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    address: Mapped[str | None] = mapped_column(String(400))
    input_crs: Mapped[str | None] = mapped_column(String(32))
    input_x: Mapped[float | None] = mapped_column(Float)
    input_y: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    located_by: Mapped[str | None] = mapped_column(String(32))
    location_confidence: Mapped[float | None] = mapped_column(Float)
    matched_building_id: Mapped[str | None] = mapped_column(String(64))
    suggestions: Mapped[list[Any]] = mapped_column(default=list)
    grid_code: Mapped[str | None] = mapped_column(String(64), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(String(32), index=True)
    district_code: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="reported", index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    department: Mapped[str | None] = mapped_column(String(64), index=True)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by: Mapped[str | None] = mapped_column(String(64))
    level_since: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column()
    was_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column()
    hours_to_close: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[int | None] = mapped_column(Integer)
    department_rating: Mapped[int | None] = mapped_column(Integer)  # the street's rating of the department (assess)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # statistics read changes by it
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=True)


class IncidentEvent(Base):
    """One step in a case's trace: who did what, when, from which state and level to which. Never deleted."""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    from_level: Mapped[int | None] = mapped_column(Integer)
    to_level: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Camera(Base):
    """A surveillance camera point with its optional view direction, angle and range, placed in a grid."""

    __tablename__ = "cameras"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    heading: Mapped[float | None] = mapped_column(Float)
    fov: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(64), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("POINT"))


class PartitionJob(Base):
    """A partition job of one community, shared by every API worker and instance: status, progress, result."""

    __tablename__ = "partition_jobs"
    __table_args__ = (
        # one unfinished job per community, even when two workers start one at the same moment
        Index("uq_partition_jobs_active", "community_code", unique=True,
              postgresql_where=text("status IN ('queued', 'running')"),
              sqlite_where=text("status IN ('queued', 'running')")),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    community_code: Mapped[str] = mapped_column(String(32), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(128))  # host:pid of the worker running it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # the owner's lease: renewed while the job is queued or running; a job whose lease ran out is failed by
    # whichever worker next looks (geogrid.store.jobs.fail_expired), on any host
    heartbeat_at: Mapped[datetime | None] = mapped_column()
